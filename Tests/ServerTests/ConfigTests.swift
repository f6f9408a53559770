import Foundation
import Testing

@testable import Server

@Suite("Configuration")
struct ConfigTests {
    static func config(_ arguments: [String], files: [String: String] = [:]) throws -> ServerConfig {
        let invocation = try ServerConfig.parse(arguments: arguments) { path in
            guard let text = files[path] else { throw ServerConfig.ConfigFileError(path: path, reason: "No such file or directory") }
            return text
        }
        guard case .run(let config) = invocation else { throw ConfigError(line: 0, text: "", reason: "not a run") }
        return config
    }

    @Test("Defaults follow the issue: port 6379, bind 127.0.0.1, dir ./, dump.rdb, 16 databases")
    func defaults() throws {
        let config = try Self.config([])
        #expect(config.port == 6379)
        #expect(config.bindAddresses == ["127.0.0.1"])
        #expect(config.dir == "./")
        #expect(config.dbfilename == "dump.rdb")
        #expect(config.databases == 16)
        #expect(config.requirePass == nil)
        #expect(config.maxClients == 10000)
        #expect(config.protoMaxBulkLength == 512 * 1024 * 1024)
        #expect(!config.daemonize)
        #expect(config.loglevel == "notice")
    }

    @Test("A file, then command-line options that override it, as Redis appends them")
    func fileAndOptions() throws {
        let file = """
            # comment
              port 7000
            BIND 127.0.0.1 ::1
            requirepass "with space"
            save 900 1
            save 300 10
            proto-max-bulk-len 1mb
            include /extra.conf
            maxheap 1gb
            persistence-available no
            """
        let config = try Self.config(
            ["/etc/test.conf", "--port", "7001", "--save", "--loglevel", "verbose", "--requirepass", "--dash-value"],
            files: ["/etc/test.conf": file, "/extra.conf": "databases 4\n"])
        #expect(config.port == 7001)
        #expect(config.bindAddresses == ["127.0.0.1", "::1"])
        #expect(config.requirePass == "--dash-value")
        #expect(config.savePoints.isEmpty)
        #expect(config.protoMaxBulkLength == 1024 * 1024)
        #expect(config.databases == 4)
        #expect(config.loglevel == "verbose")
        #expect(config["maxheap"] == String(1024 * 1024 * 1024))
        #expect(!config.persistenceAvailable)
        #expect(config.configFile == "/etc/test.conf")
        let saving = try Self.config(["--save", "900 1", "--save", "60 100"])
        #expect(saving.savePoints.map { [$0.seconds, $0.changes] } == [[900, 1], [60, 100]])
        let combined = try Self.config(["--port 7002", "--save", ""])
        #expect(combined.port == 7002 && combined.savePoints.isEmpty)
    }

    @Test("Errors are Redis's FATAL CONFIG FILE ERROR with the line")
    func errors() throws {
        #expect(throws: ConfigError.self) { try Self.config(["--nosuch", "1"]) }
        do {
            _ = try Self.config(["/c.conf"], files: ["/c.conf": "port 1\nfrobnicate yes\n"])
            Issue.record("unknown directive accepted")
        } catch let error as ConfigError {
            #expect(error.line == 2)
            #expect(error.description.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"))
            #expect(error.description.contains(">>> 'frobnicate yes'"))
            #expect(error.description.contains("Bad directive or wrong number of arguments"))
        }
        let cases: [(String, String)] = [
            ("port x", "argument couldn't be parsed into an integer"),
            ("port 70000", "argument must be between 0 and 65535 inclusive"),
            ("daemonize maybe", "argument must be 'yes' or 'no'"),
            ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
            ("maxmemory 1zb", ""), ("save 10", "Invalid save parameters"),
            ("requirepass \"open", "Unbalanced quotes in configuration line"), ("port", "wrong number of arguments"),
        ]
        for (line, reason) in cases {
            var config = ServerConfig()
            do {
                try config.load(line)
                if !reason.isEmpty { Issue.record("accepted: \(line)") }
            } catch let error as ConfigError {
                if !reason.isEmpty { #expect(error.reason == reason, "\(line)") }
            }
        }
        #expect(throws: ServerConfig.ConfigFileError.self) { try Self.config(["/missing.conf"]) }
    }

    @Test("Debian's stock redis.conf loads")
    func stockFile() throws {
        let path = "/etc/redis/redis.conf"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        var config = ServerConfig()
        try config.load(text)
        #expect(config.port == 6379)
    }

    @Test("Lines split like sdssplitargs; options quoted like sdscatrepr round-trip")
    func splitting() throws {
        #expect(try ServerConfig.splitArguments("a  \"b c\" 'd\\'e' \"\\x41\\n\"") == ["a", "b c", "d'e", "A\n"])
        #expect(throws: ServerConfig.UnbalancedQuotes.self) { try ServerConfig.splitArguments("a \"b") }
        for word in ["", "plain", "with space", "quote\"and\\slash", "tab\tnew\nline", "\u{1}"] {
            #expect(try ServerConfig.splitArguments(ServerConfig.quoted(word)) == [word])
        }
        #expect(ServerConfig.parseNumber("1gb", memory: true) == Int64(1) << 30)
        #expect(ServerConfig.parseNumber("2k", memory: true) == 2000)
        #expect(ServerConfig.parseNumber("2k", memory: false) == nil)
    }

    @Test("-v and --help are recognised")
    func invocations() throws {
        guard case .version = try ServerConfig.parse(arguments: ["-v"]) else { Issue.record("-v"); return }
        guard case .help = try ServerConfig.parse(arguments: ["--help"]) else { Issue.record("--help"); return }
    }
}
