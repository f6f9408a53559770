/// The N largest rows seen, in a bounded min-heap: memory stays O(N) whatever the number of keys.
struct TopKeys {
    private struct Item {
        var size: Int
        /// Arrival order: among equal sizes the earlier key ranks first.
        var sequence: Int
        var row: [UInt8]

        /// Heap order: the item that should leave first (smallest, then latest) is "less".
        static func ranksBelow(_ a: Item, _ b: Item) -> Bool {
            a.size != b.size ? a.size < b.size : a.sequence > b.sequence
        }
    }

    let limit: Int
    private var heap: [Item] = []
    private var sequence = 0

    init(limit: Int) {
        self.limit = limit
        heap.reserveCapacity(min(limit, 1 << 16) + 1)
    }

    mutating func insert(size: Int, row: [UInt8]) {
        defer { sequence += 1 }
        guard limit > 0 else { return }
        let item = Item(size: size, sequence: sequence, row: row)
        if heap.count < limit {
            heap.append(item)
            siftUp(heap.count - 1)
        } else if Item.ranksBelow(heap[0], item) {
            heap[0] = item
            siftDown(0)
        }
    }

    /// The rows, largest first.
    func sortedRows() -> [[UInt8]] {
        heap.sorted { Item.ranksBelow($1, $0) }.map(\.row)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard Item.ranksBelow(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            var smallest = parent
            for child in [2 * parent + 1, 2 * parent + 2]
            where child < heap.count && Item.ranksBelow(heap[child], heap[smallest]) {
                smallest = child
            }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
