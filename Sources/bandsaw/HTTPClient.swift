#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The smallest HTTP/1.1 client `bandsaw submit` needs: one request per connection over a
/// POSIX socket, plain http only (the service speaks no TLS; put a TLS proxy in front of it
/// for that). No dependency: the executable stays free of libcurl, which the container image
/// does not ship.
struct HTTPClient {
    /// A parsed `http://host[:port][/path]`.
    struct Endpoint {
        var host: String, port: Int, path: String

        init?(_ url: String) {
            guard url.hasPrefix("http://") else { return nil }
            var rest = Substring(url.dropFirst(7))
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            path = String(rest[slash...])
            rest = rest[..<slash]
            if path.hasSuffix("/") { path.removeLast() }
            var hostPart = rest, portPart: Substring = "80"
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                hostPart = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                if after.hasPrefix(":") { portPart = after.dropFirst() }
            } else if let colon = rest.lastIndex(of: ":") {
                hostPart = rest[..<colon]
                portPart = rest[rest.index(after: colon)...]
            }
            guard !hostPart.isEmpty, let p = Int(portPart), (1...65535).contains(p) else { return nil }
            host = String(hostPart)
            port = p
        }
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let endpoint: Endpoint
    var timeout: Double = 300

    /// Sends one request and reads the whole answer.
    func send(method: String, path: String, headers: [String: String] = [:], body: [UInt8] = []) throws(Failure) -> Reply {
        let socket = try connect()
        defer { close(socket) }
        var head = "\(method) \(endpoint.path)\(path) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nConnection: close\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try write(socket, Array(head.utf8))
        try write(socket, body)
        return try readReply(socket)
    }

    private func connect() throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure(description: "cannot resolve \(endpoint.host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0 {
                var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
                reason = String(cString: strerror(errno))
                close(fd)
            }
            entry = info.pointee.ai_next
        }
        throw Failure(description: "cannot connect to \(endpoint.host):\(endpoint.port): \(reason)")
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            // The service may answer (413) and close before the whole upload is sent: read it.
            if n < 0 && (errno == EPIPE || errno == ECONNRESET) { return }
            guard n > 0 else { throw Failure(description: "sending failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    private func readReply(_ fd: Int32) throws(Failure) -> Reply {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET && !data.isEmpty { break }
                throw Failure(description: "no answer: \(String(cString: strerror(errno)))")
            }
            data.append(contentsOf: buffer[0..<n])
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = data.indices.dropLast(3).first(where: { data[$0..<$0 + 4].elementsEqual(separator) }) else {
            throw Failure(description: "the answer is not HTTP")
        }
        let lines = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else { throw Failure(description: "the answer is not HTTP") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init) {
            guard body.count >= length else { throw Failure(description: "the answer was cut short") }
            body = Array(body.prefix(length))
        }
        return Reply(status: status, headers: headers, body: body)
    }
}
