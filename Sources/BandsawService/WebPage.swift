/// The page at `GET /`.
enum WebPage {
    static let html = "<!doctype html><title>bandsaw</title><p>bandsaw serve</p>"
}
