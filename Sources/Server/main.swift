#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// redis-server [config-file] [--name value …]: see ServerProcess.
exit(ServerProcess.run(arguments: Array(CommandLine.arguments.dropFirst())))
