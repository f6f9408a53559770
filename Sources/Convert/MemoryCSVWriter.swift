import Formats
import NIOCore

/// `--to memory-csv`: one row per key in the columns of redis-rdb-tools' memory report, with sizes from
/// ``MemoryEstimator``; `--top N` keeps only the N largest, printed largest first.
struct MemoryCSVWriter: RecordWriter {
    static let header = "database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry\n"

    private var output: BufferedOutput
    private var top: TopKeys?

    init(sink: OutputSink, top: Int?) {
        output = BufferedOutput(sink: sink)
        self.top = top.map { TopKeys(limit: $0) }
    }

    mutating func begin(_ info: RDBFileInfo) throws(FormatError) {
        output.buffer.writeString(MemoryCSVWriter.header)
    }

    mutating func write(_ entry: RDBEntry) throws(FormatError) {
        let estimate = MemoryEstimator.estimate(entry)
        var row = ByteBufferAllocator().buffer(capacity: 96 + entry.header.key.readableBytes)
        MemoryCSVWriter.writeRow(entry.header, estimate, to: &row)
        if top != nil {
            top!.insert(size: estimate.bytes, row: Array(row.readableBytesView))
        } else {
            output.buffer.writeBuffer(&row)
            try output.flushIfFull()
        }
    }

    mutating func finish(trailing: RDBFileInfo) throws(FormatError) {
        if let top {
            for row in top.sortedRows() { output.buffer.writeBytes(row) }
        }
        try output.finish()
    }

    func abort() { output.sink.abort() }

    /// rdbtools' type names ("sortedset" for zsets).
    static func typeName(_ kind: RDBValueKind) -> String {
        kind == .zset ? "sortedset" : kind.rawValue
    }

    static func writeRow(_ header: RDBKeyHeader, _ estimate: MemoryEstimate, to out: inout ByteBuffer) {
        out.writeString("\(header.database),\(typeName(header.type.kind)),")
        writeField(header.key, to: &out)
        out.writeString(
            ",\(estimate.bytes),\(estimate.encoding),\(estimate.elementCount),\(estimate.largestElementBytes),")
        if let expire = header.expireAtMilliseconds { out.writeString(iso8601(milliseconds: expire)) }
        out.writeInteger(UInt8(ascii: "\n"))
    }

    /// RFC 4180: the key's bytes as they are, quoted (with doubled quotes) when they hold a comma, a quote or a
    /// line break.
    static func writeField(_ bytes: ByteBuffer, to out: inout ByteBuffer) {
        let special: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "\""), 0x0A, 0x0D]
        guard bytes.readableBytesView.contains(where: { special.contains($0) }) else {
            out.writeImmutableBuffer(bytes)
            return
        }
        out.writeInteger(UInt8(ascii: "\""))
        for byte in bytes.readableBytesView {
            if byte == UInt8(ascii: "\"") { out.writeInteger(byte) }
            out.writeInteger(byte)
        }
        out.writeInteger(UInt8(ascii: "\""))
    }

    /// `2100-01-01T00:00:00.123Z` (UTC, milliseconds).
    static func iso8601(milliseconds: Int64) -> String {
        let (seconds, millisecond) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        var totalSeconds = seconds
        var millis = millisecond
        if millis < 0 {
            millis += 1000
            totalSeconds -= 1
        }
        var (days, secondOfDay) = totalSeconds.quotientAndRemainder(dividingBy: 86400)
        if secondOfDay < 0 {
            secondOfDay += 86400
            days -= 1
        }
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
            + "T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):"
            + "\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }
}
