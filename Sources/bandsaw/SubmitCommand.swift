import ArgumentParser
import Foundation
import ImageCodecs
import ImageCore
import SPMDEngine

/// `bandsaw submit URL IMAGE... -o OUT`: the client of `bandsaw serve`.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Send images to a running 'bandsaw serve' and write the results.",
        discussion: """
            The output's extension picks the format, as for 'bandsaw process'; with several \
            images, -o is a folder and each result keeps its input's name. Prints the phase \
            times the service measured (Server-Timing) and the whole round trip. Exit codes \
            as for 'bandsaw process': 2 bad usage (400, 401), 3 bad image (413, 415, 422), \
            1 anything else (429, 503, no answer).
            """
    )

    @Argument(help: "The service, http://HOST:PORT.")
    var url: String

    @Argument(help: "Images to send.")
    var images: [String]

    @Option(name: .shortAndLong, help: "Output file, or folder for several images.")
    var output: String

    @Option(name: .customLong("op"), help: ArgumentHelp("A filter, applied in order; repeatable (see 'bandsaw ops').", valueName: "spec"))
    var ops: [String] = []

    @Option(help: ArgumentHelp("JPEG quality, or lossy WebP at this quality.", valueName: "1...100"))
    var quality: Int?

    @Option(help: ArgumentHelp("A file holding the service's bearer token.", valueName: "file"))
    var tokenFile: String?

    @Flag(name: .shortAndLong, help: "Print no timing table.")
    var quiet = false

    func validate() throws {
        guard HTTPClient.Endpoint(url) != nil else { throw ValidationError("'\(url)' is not an http://HOST:PORT URL") }
    }

    func run() throws {
        var client = HTTPClient(endpoint: HTTPClient.Endpoint(url)!)
        client.timeout = 600
        var headers = ["Content-Type": "application/octet-stream"]
        if let tokenFile {
            switch ServeCommand.readToken(tokenFile) {
            case .success(let token): headers["Authorization"] = "Bearer \(token)"
            case .failure(let error): Console.error(error.description); throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        let batch = images.count > 1 || isDirectory(output)
        if batch { try? FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        var worst = ExitStatus.success
        for image in images {
            let target = batch ? (output as NSString).appendingPathComponent((image as NSString).lastPathComponent) : output
            let status = send(image, to: target, client: client, headers: headers)
            if status.rawValue > worst.rawValue { worst = status }
        }
        if worst != .success { throw ExitCode(worst.rawValue) }
    }

    /// One image there and back; prints the error line or the timing table.
    func send(_ image: String, to target: String, client: HTTPClient, headers: [String: String]) -> ExitStatus {
        let format: String
        do throws(ImageError) {
            _ = try ImageFormat.forOutput(path: target)
            format = (target as NSString).pathExtension.lowercased()
        } catch {
            Console.error(error.description)
            return .usage
        }
        let bytes: [UInt8]
        do throws(ImageError) { bytes = try readFileBytes(path: image) } catch {
            Console.error(error.description)
            return .badImage
        }
        let query = (ops.map { "op=" + Self.escape($0) } + ["format=" + format] + (quality.map { ["quality=\($0)"] } ?? []))
            .joined(separator: "&")
        let start = Date()
        let reply: HTTPClient.Reply
        do { reply = try client.send(method: "POST", path: "/v1/process?" + query, headers: headers, body: bytes) } catch {
            Console.error("\(url): \(error)")
            return .failure
        }
        let seconds = Date().timeIntervalSince(start)
        guard reply.status == 200 else {
            let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]
            let line = (object?["error"] as? String) ?? "HTTP \(reply.status)"
            Console.error(line.replacingOccurrences(of: "upload: ", with: "\(image): "))
            switch reply.status {
            case 400, 401: return .usage
            case 413, 415, 422: return .badImage
            default: return .failure
            }
        }
        do throws(ImageError) { try writeFileAtomically(reply.body, path: target) } catch {
            Console.error(error.description)
            return .badImage
        }
        if !quiet {
            let pipeline = (ops.isEmpty ? ["sobel"] : ops).joined(separator: " | ")
            var lines = ["\(image) -> \(target)  [\(pipeline)] via \(url)", "phase       max ms"]
            for entry in (reply.headers["server-timing"] ?? "").split(separator: ",") {
                let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ";")
                guard parts.count == 2, parts[1].hasPrefix("dur="), let ms = Double(parts[1].dropFirst(4)) else { continue }
                let name = String(parts[0])
                lines.append(name + String(repeating: " ", count: max(1, 10 - name.count)) + String(format: "%8.2f", ms))
            }
            lines.append("round trip" + String(format: "%8.2f", seconds * 1000))
            Console.out(lines.joined(separator: "\n"))
        }
        return .success
    }

    /// Percent-encodes a query value (a filter spec has ':', '=' and ',').
    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
