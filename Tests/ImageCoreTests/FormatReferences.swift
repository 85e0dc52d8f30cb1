import Foundation
import ImageCore
import Testing

/// JPEG, TIFF and WebP files with their reference decodes, made once per test run by
/// `scripts/make-format-references.py` (Pillow, and libtiff through ctypes) into a temporary
/// folder; nil where Python or Pillow is missing (CI installs them and fails instead).
enum FormatReferences {
    /// One test file and what the reference decoder read from it.
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var file: String
        var expected: Image
        /// Whether the reference keeps the stored orientation (`--no-autorotate`).
        var stored: Bool
        var description: String { name }
    }

    static let folder: String? = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bandsaw-formats-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: CodecFixtures.root).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/make-format-references.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The project's virtual environment (scripts/test.sh fills it) where there is one.
        let venv = URL(fileURLWithPath: CodecFixtures.root).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".venv/bin/python3").path
        let python = FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
        process.arguments = [python, script, CodecFixtures.path("photos/astronaut-256.png"), dir]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        guard (try? process.run()) != nil else { return nil }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            print("format references unavailable (pip install pillow numpy): \(text.suffix(300))")
            return nil
        }
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("bandsaw-formats-\(getpid())").path) }
        return dir
    }()

    /// Every case whose name starts with `prefix`.
    static func cases(_ prefix: String) -> [Case] {
        guard let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".ref") }.sorted().compactMap { ref in
            let name = String(ref.dropLast(4))
            let stored = name.hasSuffix(".stored")
            let base = stored ? String(name.dropLast(7)) : name
            guard let file = names.first(where: { $0.hasPrefix(base + ".") && !$0.hasSuffix(".ref") }),
                  let data = FileManager.default.contents(atPath: folder + "/" + ref),
                  let newline = data.firstIndex(of: 10) else { return nil }
            let shape = String(decoding: data[..<newline], as: UTF8.self).split(separator: " ").compactMap { Int($0) }
            guard shape.count == 3 else { return nil }
            let expected = Image(width: shape[0], height: shape[1], channels: shape[2], pixels: Array(data[(newline + 1)...]))
            return Case(name: name, file: folder + "/" + file, expected: expected, stored: stored)
        }
    }

    /// Requires the references in CI; elsewhere a missing Pillow skips the comparison.
    static func require() throws -> Bool {
        if folder != nil { return true }
        try #require(ProcessInfo.processInfo.environment["CI"] != "true", "Pillow/numpy missing in CI")
        return false
    }
}
