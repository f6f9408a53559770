import Keyspace

// MARK: - Finding a command by its name's bytes
//
// `Keyspace.execute(_:session:)` lower-cases the name into a String and hashes it for every command. The server
// instead packs the name (up to 16 bytes, ASCII-lower-cased) into two words and probes a small open-addressing
// table: no allocation and a couple of multiplications per command. Longer names fall back to the String lookup.

/// The command table indexed by name bytes. Rebuild it when the keyspace's table changes (start-up only).
///
/// A class, immutable: the server looks a name up for every command, and a struct held in the server's `var`
/// was copied out for each call (a retain and a release of each of its arrays).
final class CommandNameTable {
    private struct Slot {
        var low: UInt64
        var high: UInt64
        var length: UInt8
        /// Index into `specs`, -1 for an empty slot.
        var index: Int32
    }

    /// Every command, in a fixed order: the index is also the command's statistics slot.
    let specs: [CommandSpec]
    private let slots: [Slot]
    private let mask: Int
    private let longNames: [String: Int]

    init(_ table: CommandTable) {
        let specs = table.specs.keys.sorted().map { table.specs[$0]! }
        let capacity = max(16, (specs.count * 4).nextPowerOfTwo)
        let mask = capacity - 1
        var slots = Array(repeating: Slot(low: 0, high: 0, length: 0, index: -1), count: capacity)
        var longNames: [String: Int] = [:]
        for (index, spec) in specs.enumerated() {
            let name = Bytes(spec.name)
            guard let key = CommandNameTable.pack(name) else {
                longNames[spec.name] = index
                continue
            }
            var slot = CommandNameTable.hash(key) & mask
            while slots[slot].index >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Slot(low: key.low, high: key.high, length: key.length, index: Int32(index))
        }
        self.specs = specs
        self.slots = slots
        self.mask = mask
        self.longNames = longNames
    }

    /// The index of the command named `name` (any case), nil when unknown.
    /// - Complexity: O(1) expected.
    @inline(__always)
    func lookup(_ name: Bytes) -> Int? {
        guard let key = CommandNameTable.pack(name) else {
            return name.count > 16 ? longNames[name.lowercasedASCII] : nil
        }
        var slot = CommandNameTable.hash(key) & mask
        while true {
            let candidate = slots[slot]
            if candidate.index < 0 { return nil }
            if candidate.low == key.low, candidate.high == key.high, candidate.length == key.length {
                return Int(candidate.index)
            }
            slot = (slot + 1) & mask
        }
    }

    /// The name lower-cased and packed little-endian into two words; nil when empty or longer than 16 bytes.
    @inline(__always)
    private static func pack(_ name: Bytes) -> (low: UInt64, high: UInt64, length: UInt8)? {
        let count = name.count
        guard count > 0, count <= 16 else { return nil }
        return name.withUnsafeBufferPointer { array in
            var low: UInt64 = 0
            var high: UInt64 = 0
            for index in 0..<count {
                var byte = array[index]
                if byte &- 65 < 26 { byte |= 0x20 }
                if index < 8 {
                    low |= UInt64(byte) << (UInt64(index) * 8)
                } else {
                    high |= UInt64(byte) << (UInt64(index - 8) * 8)
                }
            }
            return (low, high, UInt8(count))
        }
    }

    @inline(__always)
    private static func hash(_ key: (low: UInt64, high: UInt64, length: UInt8)) -> Int {
        let mixed = (key.low &* 0x9E37_79B9_7F4A_7C15) ^ (key.high &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(key.length)
        return Int(truncatingIfNeeded: mixed >> 40)
    }
}

extension Int {
    fileprivate var nextPowerOfTwo: Int {
        var value = 1
        while value < self { value <<= 1 }
        return value
    }
}
