import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Per-connection tuning of the HTTP pipeline for uploads of many megabytes.
///
/// - Answers `Expect: 100-continue` at once with `100 Continue` (unless the declared length is
///   over the limit: then the route's 413 comes instead, and the client never sends the body).
///   curl asks this of every upload over 1 MiB and otherwise waits a whole second before
///   sending the body.
/// - Lets the connection read up to 4 MiB at a time instead of NIO's 64 KiB: each read is a hop
///   from the event loop to the handler's task, which on a loaded machine waits for a time
///   slice. The allocator grows only as data comes, so a small request keeps a small buffer.
final class UploadTuning: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    let limit: Int

    init(limit: Int) { self.limit = limit }

    func handlerAdded(context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.recvAllocator,
                                  value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 << 10, maximum: 4 << 20))
            .whenComplete { _ in }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data),
           request.headerFields[.expect]?.lowercased() == "100-continue",
           (request.headerFields[.contentLength].flatMap(Int.init) ?? 0) <= limit {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
