// Argument parsing shared by the stream commands, with Redis 7.0's error texts (t_stream.c).

// MARK: - IDs

enum StreamArguments {
    static let invalidID = CommandError("ERR Invalid stream ID specified as stream command argument")

    /// An ID argument (`streamParseIDOrReply`, or `streamParseStrictIDOrReply` when `strict`: no `-` / `+`).
    static func id(_ argument: Bytes, strict: Bool, missingSequence: UInt64 = 0) throws(CommandError) -> StreamID {
        guard let parsed = StreamID.parse(argument, missingSequence: missingSequence, strict: strict) else {
            throw invalidID
        }
        return parsed.id
    }

    /// A range bound (`streamParseIntervalIDOrReply`): an ID, or `(` and a strict ID for an exclusive bound.
    private static func interval(_ argument: Bytes, missingSequence: UInt64) throws(CommandError) -> (
        id: StreamID, exclusive: Bool
    ) {
        if argument.count > 1 && argument[0] == UInt8(ascii: "(") {
            return (try id(Bytes(argument.dropFirst()), strict: true, missingSequence: missingSequence), true)
        }
        return (try id(argument, strict: false, missingSequence: missingSequence), false)
    }

    /// The start of a range: a missing sequence is 0; `(id` starts after `id`.
    static func rangeStart(_ argument: Bytes) throws(CommandError) -> StreamID {
        let (start, exclusive) = try interval(argument, missingSequence: 0)
        guard exclusive else { return start }
        guard let next = start.successor else { throw CommandError("ERR invalid start ID for the interval") }
        return next
    }

    /// The end of a range: a missing sequence is the largest; `(id` ends before `id`.
    static func rangeEnd(_ argument: Bytes) throws(CommandError) -> StreamID {
        let (end, exclusive) = try interval(argument, missingSequence: .max)
        guard exclusive else { return end }
        guard let previous = end.predecessor else { throw CommandError("ERR invalid end ID for the interval") }
        return previous
    }

    // MARK: - Errors naming keys and groups

    /// A key or group name as `addReplyErrorFormat`'s `%s` shows it: cut at a NUL byte, line breaks made spaces.
    static func quoted(_ name: Bytes) -> String {
        let cut = name.firstIndex(of: 0).map { Bytes(name[..<$0]) } ?? name
        return Bytes(cut.map { $0 == 0x0d || $0 == 0x0a ? 0x20 : $0 }).string
    }

    /// `NOGROUP No such key 'k' or consumer group 'g'` (XPENDING, XCLAIM, XAUTOCLAIM).
    static func noKeyOrGroup(_ key: Bytes, _ group: Bytes, suffix: String = "") -> CommandError {
        CommandError("NOGROUP No such key '\(quoted(key))' or consumer group '\(quoted(group))'\(suffix)")
    }

    /// `NOGROUP No such consumer group 'g' for key name 'k'` (XGROUP, XINFO).
    static func noSuchGroup(_ group: Bytes, key: Bytes) -> CommandError {
        CommandError("NOGROUP No such consumer group '\(quoted(group))' for key name '\(quoted(key))'")
    }

    /// `unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.`
    static func subcommandSyntax(_ context: CommandContext) -> CommandError {
        let subcommand = Bytes(context[1].prefix(128))
        return CommandError(
            "ERR unknown subcommand or wrong number of arguments for '\(quoted(subcommand))'. Try \(context[0].string.uppercased()) HELP."
        )
    }

    /// The count of COUNT-like options: an integer, negative meaning 0.
    static func count(_ context: CommandContext, _ index: Int) throws(CommandError) -> Int {
        Int(Swift.max(0, try context.integer(index)))
    }

    /// A `%lld` field of a command Redis propagates.
    static func decimal(_ value: Int64) -> Bytes { Bytes(integer: value) }
}

// MARK: - XADD and XTRIM options

/// The trimming and XADD options (`streamParseAddOrTrimArgsOrReply`).
struct StreamTrimArguments {
    var strategy: StreamValue.TrimStrategy?
    /// `~`: only whole nodes are removed.
    var approximate = false
    /// The argument index of the MAXLEN / MINID value (its `~` or `=` is just before it), for the rewrite.
    var thresholdIndex = 0
    /// Entries removed at most (0: no limit).
    var limit = 0
    /// XADD only.
    var noMakeStream = false
    /// XADD only: the ID argument's index, and the ID unless it is `*`.
    var idIndex = 0
    var id: StreamID.Parsed?

    /// Parses the options that start at argument 2. For XADD they end at the ID (`*` or explicit).
    static func parse(_ context: CommandContext, xadd: Bool) throws(CommandError) -> StreamTrimArguments {
        var arguments = StreamTrimArguments()
        var limitGiven = false
        var index = 2
        while index < context.count {
            let more = context.count - 1 - index
            let option = context[index]
            if xadd && option.count == 1 && option[0] == UInt8(ascii: "*") {
                break
            } else if more > 0, option.isKeyword("maxlen") || option.isKeyword("minid") {
                guard arguments.strategy == nil else {
                    throw CommandError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
                }
                arguments.approximate = false
                let next = context[index + 1]
                if more >= 2 && next.count == 1 && (next[0] == UInt8(ascii: "~") || next[0] == UInt8(ascii: "=")) {
                    arguments.approximate = next[0] == UInt8(ascii: "~")
                    index += 1
                }
                index += 1
                if option.isKeyword("maxlen") {
                    let maxLength = try context.integer(index)
                    guard maxLength >= 0 else { throw CommandError("ERR The MAXLEN argument must be >= 0.") }
                    arguments.strategy = .maxLength(Int(maxLength))
                } else {
                    arguments.strategy = .minimumID(try StreamArguments.id(context[index], strict: true))
                }
                arguments.thresholdIndex = index
            } else if more > 0, option.isKeyword("limit") {
                let limit = try context.integer(index + 1)
                guard limit >= 0 else { throw CommandError("ERR The LIMIT argument must be >= 0.") }
                arguments.limit = Int(limit)
                limitGiven = true
                index += 1
            } else if xadd && option.isKeyword("nomkstream") {
                arguments.noMakeStream = true
            } else if xadd {
                guard let parsed = StreamID.parse(option, strict: true, allowAutoSequence: true) else {
                    throw StreamArguments.invalidID
                }
                arguments.id = parsed
                break
            } else {
                throw .syntax
            }
            index += 1
        }
        arguments.idIndex = index
        if arguments.limit != 0 && arguments.strategy == nil {
            throw CommandError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
        }
        if !xadd && arguments.strategy == nil {
            throw CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
        }
        if StreamArguments.isReplaying(context) {
            // Redis's AOF client and replicas obey the (rewritten) threshold exactly, LIMIT or not.
            arguments.limit = 0
        } else if limitGiven {
            guard arguments.approximate else {
                throw CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option")
            }
        } else {
            arguments.limit = arguments.approximate ? 100 * StreamValue.nodeMaxEntries : 0
        }
        return arguments
    }

    /// The command as Redis propagates it after an approximate trim: `~` becomes `=` and the threshold what
    /// the stream now is (its length, or its first ID counting deleted entries still in their node).
    func rewritten(_ argv: [Bytes], stream: StreamValue) -> [Bytes] {
        var argv = argv
        argv[thresholdIndex - 1] = "="
        switch strategy {
        case .maxLength: argv[thresholdIndex] = Bytes(integer: Int64(stream.count))
        case .minimumID: argv[thresholdIndex] = stream.firstSlotID.bytes
        case nil: break
        }
        return argv
    }
}

/// The commands a stream command propagates instead of itself, built only when the keyspace records propagation
/// (an XCLAIM per delivered message is not worth building when no AOF is open).
struct StreamPropagation {
    let enabled: Bool
    private(set) var commands: [[Bytes]] = []

    init(_ context: CommandContext) { enabled = context.keyspace.propagationEnabled }

    mutating func append(_ command: @autoclosure () -> [Bytes]) {
        if enabled { commands.append(command()) }
    }
}

extension StreamArguments {
    /// Whether the command comes from the AOF being loaded (Redis's `CLIENT_ID_AOF`, whose ID is -1 here too;
    /// expiry is off while loading).
    static func isReplaying(_ context: CommandContext) -> Bool {
        context.session.id == -1 || !context.keyspace.expiryEnabled
    }
}
