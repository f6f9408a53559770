// MARK: - SETBIT GETBIT BITCOUNT
//
// Bit 0 is the most significant bit of byte 0 (Redis's bitmap order). Offsets are limited to
// `proto-max-bulk-len` bytes (512 MB, so bit offsets below 2^32). A missing key reads as zero bits.

extension CommandTable {
    static let bitCommands: [CommandSpec] = [
        CommandSpec("setbit", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "bitmap") {
            context throws(CommandError) in
            let offset = try bitOffset(context[2])
            let bitError = CommandError("ERR bit is not an integer or out of range")
            guard let on = context[3].integerValue else { throw bitError }
            guard on & ~1 == 0 else { throw bitError }
            let byteIndex = Int(offset >> 3)
            let mask = UInt8(1) << (7 - UInt8(offset & 7))
            // A missing key is created zero-filled; the body cannot fail, so creating it here is safe.
            let wasSet = try context.keyspace.update(Bytes.self, db: context.db, key: context[1], create: true) {
                value throws(CommandError) in
                value.withMutableStorage { storage in
                    if storage.count <= byteIndex {
                        storage.append(contentsOf: repeatElement(0, count: byteIndex + 1 - storage.count))
                    }
                    let old = storage[byteIndex] & mask != 0
                    storage[byteIndex] = on == 1 ? storage[byteIndex] | mask : storage[byteIndex] & ~mask
                    return old
                }
            }
            context.keyspace.modified(db: context.db, key: context[1])
            return .boolean(wasSet ?? false)
        },
        CommandSpec("getbit", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "bitmap") {
            context throws(CommandError) in
            let offset = try bitOffset(context[2])
            guard let value = try context.read(Bytes.self, key: 1) else { return .integer(0) }
            let byteIndex = Int(offset >> 3)
            guard byteIndex < value.count else { return .integer(0) }
            return .boolean(value[byteIndex] & (UInt8(1) << (7 - UInt8(offset & 7))) != 0)
        },
        CommandSpec("bitcount", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: "bitmap") {
            context throws(CommandError) in
            try bitcount(&context)
        },
    ]

    /// A bit offset argument (Redis `getBitOffsetFromArgument`): a strict integer, not negative, whose byte is
    /// within 512 MB.
    static func bitOffset(_ argument: Bytes) throws(CommandError) -> Int64 {
        guard let offset = argument.integerValue, offset >= 0, offset >> 3 < Int64(maxStringBytes) else {
            throw CommandError("ERR bit offset is not an integer or out of range")
        }
        return offset
    }

    /// BITCOUNT key [start end [BYTE|BIT]] (Redis 7.0 `bitcountCommand`): the key is looked up before the
    /// arguments are parsed, so a missing key answers 0 whatever follows.
    static func bitcount(_ context: inout CommandContext) throws(CommandError) -> Reply {
        guard let value = try context.read(Bytes.self, key: 1) else { return .integer(0) }
        let length = Int64(value.count)
        var start: Int64 = 0
        var end: Int64 = length - 1
        var firstMask: UInt8 = 0  // bits of the first byte before a BIT range's start
        var lastMask: UInt8 = 0  // bits of the last byte after a BIT range's end
        switch context.count {
        case 2:
            break
        case 4, 5:
            start = try context.integer(2)
            end = try context.integer(3)
            var inBits = false
            if context.count == 5 {
                if context[4].isKeyword("bit") {
                    inBits = true
                } else if !context[4].isKeyword("byte") {
                    throw .syntax
                }
            }
            if start < 0 && end < 0 && start > end { return .integer(0) }
            let total = inBits ? length << 3 : length
            if start < 0 { start += total }
            if end < 0 { end += total }
            start = max(start, 0)
            end = max(end, 0)
            if end >= total { end = total - 1 }
            if inBits && start <= end {
                firstMask = ~UInt8(truncatingIfNeeded: (1 << (8 - (start & 7))) - 1)
                lastMask = UInt8(truncatingIfNeeded: (1 << (7 - (end & 7))) - 1)
                start >>= 3
                end >>= 3
            }
        default:
            throw .syntax
        }
        guard start <= end else { return .integer(0) }
        let first = Int(start)
        let last = Int(end)
        var count = value.withUnsafeBytes { CommandTable.populationCount(UnsafeRawBufferPointer(rebasing: $0[first...last])) }
        count -= (value[first] & firstMask).nonzeroBitCount + (value[last] & lastMask).nonzeroBitCount
        return .count(count)
    }

    /// The number of set bits, eight bytes at a time.
    static func populationCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var index = 0
        // Whole words inside the buffer: index + 8 <= bytes.count is checked by the loop condition.
        while index + 8 <= bytes.count {
            count &+= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self).nonzeroBitCount
            index &+= 8
        }
        while index < bytes.count {
            count &+= bytes[index].nonzeroBitCount
            index &+= 1
        }
        return count
    }
}
