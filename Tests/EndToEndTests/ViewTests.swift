import Foundation
import ImageCore
import ImageCodecs
import TestSupport
import Testing

/// `bandsaw view`: the terminal preview, in both of its ways of drawing.
struct ViewTests {
    static func view(_ args: [String], environment extra: [String: String]) throws -> Harness.Outcome {
        var env = Harness.environment
        for key in ["KITTY_WINDOW_ID", "TERM_PROGRAM", "DISPLAY"] { env.removeValue(forKey: key) }
        env["TERM"] = "xterm-256color"
        env["COLUMNS"] = "40"
        env["LINES"] = "20"
        for (k, v) in extra { env[k] = v }
        return try Harness.run([Harness.executable, "view"] + args, timeout: 60, environment: env)
    }

    static func photo() throws -> (URL, Image, URL) {
        let folder = try Harness.temporaryFolder("view")
        let url = folder.appendingPathComponent("p.png")
        let image = TestImages.stripes(width: 70, height: 50, channels: 3, seed: 12)
        try writeImage(image, path: url.path)
        return (url, image, folder)
    }

    /// The base64 payloads of a kitty graphics transmission, joined.
    static func kittyPayload(_ text: String) -> [UInt8]? {
        var data = ""
        for part in text.components(separatedBy: "\u{1B}_G").dropFirst() {
            guard let semicolon = part.firstIndex(of: ";"), let end = part.range(of: "\u{1B}\\") else { return nil }
            data += part[part.index(after: semicolon)..<end.lowerBound]
        }
        return Data(base64Encoded: data).map { Array($0) }
    }

    @Test("--graphics kitty sends the image as PNG in base64 chunks")
    func kitty() throws {
        let (url, image, folder) = try Self.photo()
        defer { Harness.cleanup(folder) }
        let run = try Self.view([url.path, "--graphics", "kitty"], environment: [:])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("\u{1B}_Ga=T,f=100,"), "\(run.stdout.prefix(40))")
        let png = try #require(Self.kittyPayload(run.stdout), "payload is not base64")
        #expect(try decodeImage(bytes: png, path: "kitty.png") == image, "the PNG sent is not the image")
        #expect(!run.stdout.contains("▀"))
    }

    @Test("auto picks kitty graphics only in terminals that speak it")
    func autoDetection() throws {
        let (url, _, folder) = try Self.photo()
        defer { Harness.cleanup(folder) }
        let kitty = try Self.view([url.path], environment: ["KITTY_WINDOW_ID": "1"])
        #expect(kitty.status == 0 && kitty.stdout.hasPrefix("\u{1B}_G"), "\(kitty.stdout.prefix(40))")
        let wezterm = try Self.view([url.path], environment: ["TERM_PROGRAM": "WezTerm"])
        #expect(wezterm.stdout.hasPrefix("\u{1B}_G"))
        let plain = try Self.view([url.path], environment: [:])
        #expect(plain.status == 0 && plain.stdout.contains("▀") && !plain.stdout.contains("\u{1B}_G"))
        #expect(plain.stdout.contains("70x50, 3 channels"))
    }

    @Test("bad arguments and images are refused with one line")
    func refusals() throws {
        let (url, _, folder) = try Self.photo()
        defer { Harness.cleanup(folder) }
        let width = try Self.view([url.path, "--width", "0"], environment: [:])
        #expect(width.status == 2 && width.stderr.hasPrefix("error: "), "\(width.stderr)")
        let missing = try Self.view([folder.appendingPathComponent("nope.png").path], environment: [:])
        #expect(missing.status == 3 && missing.stderr.hasPrefix("error: "), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
    }
}
