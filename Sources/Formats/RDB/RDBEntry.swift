import NIOCore

/// A sorted set member and its score.
public struct RDBScoredMember: Sendable, Hashable {
    public var member: RDBString
    public var score: Double

    public init(member: RDBString, score: Double) {
        self.member = member
        self.score = score
    }
}

/// A hash field, its value and its own expiry (Redis 7.4 / Valkey 9 field TTLs).
public struct RDBHashField: Sendable, Hashable {
    public var field: RDBString
    public var value: RDBString
    public var expireAtMilliseconds: Int64?

    public init(field: RDBString, value: RDBString, expireAtMilliseconds: Int64? = nil) {
        self.field = field
        self.value = value
        self.expireAtMilliseconds = expireAtMilliseconds
    }
}

/// A whole stream: entries, metadata and consumer groups.
public struct RDBStream: Sendable, Hashable {
    public var entries: [RDBStreamEntry] = []
    public var metadata: RDBStreamMetadata?
    public var groups: [RDBStreamGroup] = []

    public init(entries: [RDBStreamEntry] = [], metadata: RDBStreamMetadata? = nil, groups: [RDBStreamGroup] = []) {
        self.entries = entries
        self.metadata = metadata
        self.groups = groups
    }
}

/// A whole value, assembled from a key's elements.
public enum RDBValue: Sendable, Hashable {
    case string(RDBString)
    case list([RDBString])
    case set([RDBString])
    case zset([RDBScoredMember])
    case hash([RDBHashField])
    case stream(RDBStream)
    case module(RDBModuleValue)

    /// The number of elements (1 for strings and modules, entries for streams).
    public var count: Int {
        switch self {
        case .string, .module: 1
        case .list(let items): items.count
        case .set(let members): members.count
        case .zset(let members): members.count
        case .hash(let fields): fields.count
        case .stream(let stream): stream.entries.count
        }
    }
}

/// A key with its whole value: what ``RDBReader/nextEntry()`` returns.
public struct RDBEntry: Sendable {
    public var header: RDBKeyHeader
    public var value: RDBValue

    public init(header: RDBKeyHeader, value: RDBValue) {
        self.header = header
        self.value = value
    }
}

/// What a file says besides its keys, gathered by ``RDBReader/nextEntry()``.
public struct RDBFileInfo: Sendable {
    public var header: RDBHeader?
    public var aux: [(key: RDBString, value: RDBString)] = []
    public var functions: [RDBString] = []
    public var moduleAux: [RDBModuleValue] = []
    public var checksum: RDBChecksumStatus?

    public init() {}
}

extension RDBReader {
    /// Reads up to the next complete key and assembles its whole value; non-key events are gathered in `info`.
    ///
    /// This is the convenience for callers that want whole values (a server loading a dump); it holds one
    /// whole value in memory. Returns nil after the end of the file.
    /// - Throws: what ``next()`` throws.
    public mutating func nextEntry(info: inout RDBFileInfo) throws(FormatError) -> RDBEntry? {
        var keyHeader: RDBKeyHeader? = nil
        var value: RDBValue? = nil
        while let event = try next() {
            switch event {
            case .header(let header): info.header = header
            case .aux(let key, let auxValue): info.aux.append((key, auxValue))
            case .function(let code): info.functions.append(code)
            case .moduleAux(let module): info.moduleAux.append(module)
            case .selectDB, .resizeHint, .slotInfo: break
            case .end(let status): info.checksum = status
            case .beginKey(let header):
                keyHeader = header
                switch header.type.kind {
                case .string: value = .string(.bytes(ByteBuffer()))
                case .list: value = .list([])
                case .set: value = .set([])
                case .zset: value = .zset([])
                case .hash: value = .hash([])
                case .stream: value = .stream(RDBStream())
                case .module: value = .module(RDBModuleValue(moduleID: 0, when: nil, data: []))
                }
            case .element(let element):
                RDBEntry.append(element, to: &value)
            case .elements(let block):
                for element in block.elements { RDBEntry.append(element, to: &value) }
            case .endKey:
                return RDBEntry(header: keyHeader!, value: value!)
            }
        }
        return nil
    }
}

extension RDBEntry {
    /// Adds one streamed element to a value being assembled.
    static func append(_ element: RDBElement, to value: inout RDBValue?) {
        // The value is taken out before it is changed, so that its array is uniquely referenced and an append
        // does not copy it (switching on `(element, value)` kept a second reference: quadratic per key).
        switch element {
        case .string(let string): value = .string(string)
        case .module(let module): value = .module(module)
        case .listItem(let item):
            guard case .list(var items)? = value.take() else { mismatch(element) }
            items.append(item)
            value = .list(items)
        case .setMember(let member):
            guard case .set(var members)? = value.take() else { mismatch(element) }
            members.append(member)
            value = .set(members)
        case .zsetMember(let member, let score):
            guard case .zset(var members)? = value.take() else { mismatch(element) }
            members.append(RDBScoredMember(member: member, score: score))
            value = .zset(members)
        case .hashField(let field, let fieldValue, let expire):
            guard case .hash(var fields)? = value.take() else { mismatch(element) }
            fields.append(RDBHashField(field: field, value: fieldValue, expireAtMilliseconds: expire))
            value = .hash(fields)
        case .streamEntry(let entry):
            guard case .stream(var stream)? = value.take() else { mismatch(element) }
            stream.entries.append(entry)
            value = .stream(stream)
        case .streamMetadata(let metadata):
            guard case .stream(var stream)? = value.take() else { mismatch(element) }
            stream.metadata = metadata
            value = .stream(stream)
        case .streamGroup(let group):
            guard case .stream(var stream)? = value.take() else { mismatch(element) }
            stream.groups.append(group)
            value = .stream(stream)
        }
    }

    private static func mismatch(_ element: RDBElement) -> Never {
        preconditionFailure("element \(element) does not belong to the value being assembled")
    }
}
