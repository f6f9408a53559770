import Keyspace
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - One client connection
//
// read → decode every complete request in the batch → execute each on the keyspace → encode the replies into one
// output buffer → flush it once, on channelReadComplete. A protocol error sends `-ERR Protocol error: …` after the
// replies of the requests before it, then closes. QUIT closes after its reply.

/// The handler of one connection. Lives on the server's loop, like the keyspace it calls.
final class RESPServerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: ServerCore
    let session: Session
    private var decoder = RESPRequestDecoder()
    /// Input not yet decoded (a partial request), nil when everything was consumed.
    private var pending: ByteBuffer?
    private var output: ByteBuffer
    private var context: ChannelHandlerContext?
    /// Set after QUIT, a protocol error or CLIENT KILL: nothing more is read, the connection closes after the
    /// pending output.
    private var closing = false
    private var registered = false
    /// The request being run, reused from one to the next (``RESPRequestDecoder/next(_:into:authenticated:)``).
    private var argv: [Bytes] = []
    /// The statistics slots of the commands run in the current read batch (reused, for commandstats timing).
    private var batchCommands: [Int] = []

    init(server: ServerCore) {
        self.server = server
        session = Session()
        output = ByteBufferAllocator().buffer(capacity: 0)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = context.channel.allocator.buffer(capacity: 1024)
    }

    func channelActive(context: ChannelHandlerContext) {
        session.peerAddress = RESPServerHandler.format(context.channel.remoteAddress)
        session.localAddress = RESPServerHandler.format(context.channel.localAddress)
        decoder.maxBulkBytes = server.config.protoMaxBulkLength
        guard server.register(self) else {
            closing = true
            var buffer = context.channel.allocator.buffer(capacity: 64)
            buffer.writeStaticString("-ERR max number of clients reached\r\n")
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
            return
        }
        registered = true
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if registered { server.unregister(self) }
        registered = false
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var input = unwrapInboundIn(data)
        server.stats.netInputBytes += input.readableBytes
        if var buffered = pending {
            pending = nil
            buffered.writeBuffer(&input)
            process(&buffered, context: context)
            keep(buffered)
        } else {
            process(&input, context: context)
            keep(input)
        }
        if let pending, pending.readableBytes > server.config.queryBufferLimit {
            serverLogClosing("Closing client that reached max query buffer length")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its replies stops being read from until the socket drains.
        _ = context.channel.setOption(.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Requests

    /// Keeps unread input for the next read (compacting it when most of it was consumed).
    private func keep(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0, !closing else { return }
        var rest = buffer
        if rest.readerIndex > 4096, rest.readerIndex > rest.readableBytes {
            rest.discardReadBytes()
        }
        pending = rest
    }

    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        // commandstats time: one clock read per batch, shared among its commands (a clock read per command cost
        // as much as a whole PING).
        let started = monotonicMicroseconds()
        // One command time for the batch too (Keyspace.beginCommandBatch). The keyspace and the name table are
        // read from the server once per batch, not per command.
        let keyspace = server.keyspace
        let names = server.names
        keyspace.beginCommandBatch()
        // The argument array is a local for the batch: passing a property to the keyspace would retain and release
        // it around every command.
        var argv = self.argv
        self.argv = []
        defer {
            // The last request's arguments are not kept past the batch (the decoder empties the array before each
            // request, keeping its storage unless a huge request made it big).
            if argv.capacity > 64 { argv = [] } else { argv.removeAll(keepingCapacity: true) }
            self.argv = argv
            keyspace.endCommandBatch()
            if !batchCommands.isEmpty {
                let share = (monotonicMicroseconds() - started) / batchCommands.count
                for index in batchCommands { server.stats.microseconds[index] &+= share }
                batchCommands.removeAll(keepingCapacity: true)
            }
        }
        while !closing {
            do {
                let authenticated = session.authenticated || keyspace.requirePass == nil
                guard try decoder.next(&buffer, into: &argv, authenticated: authenticated) else { return }
            } catch {
                output.writeReply(.error("ERR \(error.description)"))
                serverLog.log(level: .info, "Protocol error (\(error.reason)) from client: id=\(session.id) addr=\(session.peerAddress)")
                closing = true
                return
            }
            execute(argv, keyspace: keyspace, names: names)
            if session.closeAfterReply { closing = true }
        }
    }

    /// Runs the request `argv` and appends its reply, keeping commandstats and errorstats.
    @inline(__always)
    private func execute(_ argv: [Bytes], keyspace: Keyspace, names: CommandNameTable) {
        let index = names.lookup(argv[0])
        let reply = keyspace.execute(argv, spec: index.map { names.specs[$0] }, session: session)
        if let index {
            server.stats.calls[index] &+= 1
            batchCommands.append(index)
        }
        if case .error(let message) = reply { server.recordError(message, command: index) }
        output.writeReply(reply)
    }

    // MARK: - Output

    private func flush(context: ChannelHandlerContext) {
        // Redis writes the AOF before replies leave (and with appendfsync always, fsyncs it): an acknowledged
        // write is in the file.
        server.flushAppendOnlyLogBeforeReplies()
        if output.readableBytes > 0 {
            server.stats.netOutputBytes += output.readableBytes
            if closing {
                let chunk = output
                output = context.channel.allocator.buffer(capacity: 0)
                context.writeAndFlush(wrapOutboundOut(chunk)).whenComplete { _ in context.close(promise: nil) }
                return
            }
            context.writeAndFlush(wrapOutboundOut(output), promise: nil)
            // Reused for the next batch: once the socket took the bytes (the usual case) the storage is ours alone
            // again and clear() keeps it; while NIO still holds it, clear() gives us a new one. A buffer grown by a
            // big reply is not kept.
            if output.capacity > 64 * 1024 {
                output = context.channel.allocator.buffer(capacity: 1024)
            } else {
                output.clear()
            }
        } else if closing {
            context.close(promise: nil)
        }
    }

    private func serverLogClosing(_ message: String) {
        serverLog.warning("\(message): id=\(session.id) addr=\(session.peerAddress)")
        closing = true
        pending = nil
        if let context { flush(context: context) }
    }

    /// Closes the connection at once (CLIENT KILL, shutdown, idle timeout), after what was already written.
    @discardableResult
    func closeNow() -> EventLoopFuture<Void> {
        closing = true
        pending = nil
        guard let context else { return server.loop.makeSucceededVoidFuture() }
        let promise = server.loop.makePromise(of: Void.self)
        if output.readableBytes > 0 {
            let chunk = output
            output = context.channel.allocator.buffer(capacity: 0)
            context.writeAndFlush(wrapOutboundOut(chunk)).whenComplete { _ in context.close(promise: promise) }
        } else {
            context.close(promise: promise)
        }
        return promise.futureResult.recover { _ in }
    }

    /// CONFIG SET proto-max-bulk-len, for requests read from now on.
    func setMaxBulkBytes(_ limit: Int) { decoder.maxBulkBytes = limit }

    /// What CLIENT LIST shows about the buffers.
    var connectionFields: ClientConnectionFields {
        var fields = ClientConnectionFields()
        fields.queryBufferBytes = pending?.readableBytes ?? 0
        fields.queryBufferFreeBytes = pending.map { $0.capacity - $0.writerIndex } ?? 0
        fields.outputBufferBytes = output.readableBytes
        fields.readBufferSize = pending?.capacity ?? 0
        fields.totalMemory = (pending?.capacity ?? 0) + output.capacity
        return fields
    }

    static func format(_ address: SocketAddress?) -> String {
        guard let address else { return "" }
        if let path = address.pathname { return path }
        return "\(address.ipAddress ?? ""):\(address.port ?? 0)"
    }
}

extension ServerCore {
    /// Counts an error reply (errorstats, and failed_calls for a command that ran).
    func recordError(_ message: String, command index: Int?) {
        stats.errorReplies += 1
        let code = message.prefix { $0 != " " }
        stats.errorCodes[String(code), default: 0] += 1
        if let index { stats.failedCalls[index] += 1 }
    }
}
