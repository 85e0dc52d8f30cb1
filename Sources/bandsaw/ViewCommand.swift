#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import ImageCore
import ImageCodecs
import SPMDEngine

/// `bandsaw view IMAGE`: a preview in the terminal: the image itself through the kitty graphics
/// protocol where the terminal speaks it, else true-colour half blocks (two pixels per cell).
///
/// It lives in the executable, not in `run.sh`, so it works wherever bandsaw runs: in a
/// container, over ssh, with no image viewer installed.
struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Preview an image in the terminal (kitty graphics or true-colour half blocks).")

    @Argument(help: "The image to show (PNG, PGM, PPM).")
    var image: String

    @Option(help: "Width in character cells (default: the terminal's width, or 80).")
    var width: Int?

    @Option(help: "Height limit in character cells (default: the terminal's height less 2).")
    var height: Int?

    @Option(help: "How to draw: auto (kitty graphics in kitty, WezTerm and Ghostty, else blocks), kitty or blocks.")
    var graphics: PreviewGraphics = .auto

    func validate() throws {
        if let width, !(1...1000).contains(width) { throw ValidationError("--width must be in 1...1000") }
        if let height, !(1...1000).contains(height) { throw ValidationError("--height must be in 1...1000") }
    }

    func run() throws {
        let picture = try readImage(path: image)
        let (termColumns, termRows) = TerminalSize.current()
        let columns = min(width ?? termColumns, picture.width)
        let maxRows = height ?? max(4, termRows - 2)
        let environment = ProcessInfo.processInfo.environment
        if graphics == .kitty || (graphics == .auto && PreviewGraphics.terminalSpeaksKitty(environment)) {
            Console.out(try KittyGraphics.render(picture, columns: columns, maxRows: maxRows))
        } else {
            for line in HalfBlockRenderer.render(picture, columns: columns, maxRows: maxRows) { Console.out(line) }
        }
        Console.out("\(image): \(picture.width)x\(picture.height), \(picture.channels) channel\(picture.channels == 1 ? "" : "s")")
    }
}

/// `bandsaw view --graphics` values.
enum PreviewGraphics: String, ExpressibleByArgument, CaseIterable {
    case auto, kitty, blocks

    /// Terminals known to implement the kitty graphics protocol, told by the variables they set.
    static func terminalSpeaksKitty(_ environment: [String: String]) -> Bool {
        if let id = environment["KITTY_WINDOW_ID"], !id.isEmpty { return true }
        if environment["TERM"] == "xterm-kitty" || environment["TERM"] == "xterm-ghostty" { return true }
        return ["WezTerm", "ghostty"].contains(environment["TERM_PROGRAM"] ?? "")
    }
}

/// The kitty graphics protocol: the image as PNG, base64 in chunks of at most 4096 bytes
/// (`ESC _G a=T,f=100,c=COLS,r=ROWS,m=1;DATA ESC \`), placed over `COLS` x `ROWS` cells.
/// The PNG is a downscaled copy (at most 1600 pixels wide), so a 64 MP result does not send
/// hundreds of megabytes through the terminal.
enum KittyGraphics {
    static func render(_ image: Image, columns: Int, maxRows: Int) throws -> String {
        let scale = min(1.0, 1600.0 / Double(image.width))
        let w = max(1, Int(Double(image.width) * scale)), h = max(1, Int(Double(image.height) * scale))
        let pixels = HalfBlockRenderer.resample(image, width: w, height: h).flatMap { [UInt8($0.0), UInt8($0.1), UInt8($0.2)] }
        let png = try encodeImage(Image(width: w, height: h, channels: 3, pixels: pixels), format: .png, options: EncodeOptions(compressionLevel: 1))
        // Cells are about twice as tall as wide.
        var cols = columns
        var rows = max(1, Int((Double(image.height) * Double(cols) / Double(image.width) / 2).rounded()))
        if rows > maxRows {
            rows = maxRows
            cols = max(1, Int((Double(image.width) * Double(rows) * 2 / Double(image.height)).rounded()))
        }
        let payload = Array(Data(png).base64EncodedString().utf8)
        var out = ""
        var offset = 0
        repeat {
            let end = min(payload.count, offset + 4096)
            let chunk = String(decoding: payload[offset..<end], as: UTF8.self)
            let more = end < payload.count ? 1 : 0
            let keys = offset == 0 ? "a=T,f=100,c=\(cols),r=\(rows),m=\(more)" : "m=\(more)"
            out += "\u{1B}_G\(keys);\(chunk)\u{1B}\\"
            offset = end
        } while offset < payload.count
        return out
    }
}

/// The terminal's size from `TIOCGWINSZ`, falling back to `COLUMNS`/`LINES`, then 80x24.
enum TerminalSize {
    static func current() -> (columns: Int, rows: Int) {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        func env(_ name: String) -> Int? { getenv(name).flatMap { Int(String(cString: $0)) } }
        return (env("COLUMNS") ?? 80, env("LINES") ?? 24)
    }
}

/// Renders an image as lines of `▀` characters: the foreground colour is the upper pixel, the
/// background colour the lower, each the mean of the image area it covers.
enum HalfBlockRenderer {
    static func render(_ image: Image, columns: Int, maxRows: Int) -> [String] {
        guard image.width > 0, image.height > 0, columns > 0 else { return [] }
        // Character cells are about twice as tall as wide, and each holds two pixel rows.
        var pixelRows = max(1, Int((Double(image.height) * Double(columns) / Double(image.width)).rounded()))
        var cols = columns
        if (pixelRows + 1) / 2 > maxRows {
            pixelRows = maxRows * 2
            cols = max(1, Int((Double(image.width) * Double(pixelRows) / Double(image.height)).rounded()))
        }
        let small = resample(image, width: cols, height: pixelRows)
        var lines: [String] = []
        var y = 0
        while y < pixelRows {
            var line = ""
            for x in 0..<cols {
                let top = small[y * cols + x]
                if y + 1 < pixelRows {
                    let bottom = small[(y + 1) * cols + x]
                    line += "\u{1B}[38;2;\(top.0);\(top.1);\(top.2)m\u{1B}[48;2;\(bottom.0);\(bottom.1);\(bottom.2)m▀"
                } else {
                    line += "\u{1B}[38;2;\(top.0);\(top.1);\(top.2)m\u{1B}[49m▀"
                }
            }
            lines.append(line + "\u{1B}[0m")
            y += 2
        }
        return lines
    }

    /// Area-average downsampling to RGB (alpha composited over black).
    static func resample(_ image: Image, width: Int, height: Int) -> [(Int, Int, Int)] {
        var out: [(Int, Int, Int)] = []
        out.reserveCapacity(width * height)
        let c = image.channels
        for ty in 0..<height {
            let y0 = ty * image.height / height, y1 = max(y0 + 1, (ty + 1) * image.height / height)
            for tx in 0..<width {
                let x0 = tx * image.width / width, x1 = max(x0 + 1, (tx + 1) * image.width / width)
                var r = 0, g = 0, b = 0, n = 0
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let p = (y * image.width + x) * c
                        let alpha = (c == 2 || c == 4) ? Int(image.pixels[p + c - 1]) : 255
                        let (pr, pg, pb) = c >= 3
                            ? (Int(image.pixels[p]), Int(image.pixels[p + 1]), Int(image.pixels[p + 2]))
                            : (Int(image.pixels[p]), Int(image.pixels[p]), Int(image.pixels[p]))
                        r += pr * alpha / 255; g += pg * alpha / 255; b += pb * alpha / 255; n += 1
                    }
                }
                out.append((r / n, g / n, b / n))
            }
        }
        return out
    }
}
