/// The page at `GET /`: one file, no framework. It reads the filters from /v1/ops, builds the
/// pipeline, POSTs the file to /v1/process, and shows input and output side by side with the
/// phase times from Server-Timing, a download link, or the service's error line.
enum WebPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>bandsaw</title>
    <style>
      body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; max-width: 72em; }
      fieldset { border: 1px solid #bbb; margin: 0 0 1em; }
      .stage { margin: .3em 0; }
      .stage label { margin-right: .8em; }
      .stage input { width: 5em; }
      #panes { display: flex; gap: 1em; }
      #panes figure { flex: 1; margin: 0; }
      #panes img { max-width: 100%; border: 1px solid #ccc; }
      #error { color: #b00; font-weight: bold; }
      table { border-collapse: collapse; margin-top: .5em; }
      td, th { padding: .1em .8em; text-align: right; }
      th:first-child, td:first-child { text-align: left; }
    </style>
    </head>
    <body>
    <h1>bandsaw</h1>
    <form id="job">
      <fieldset><legend>Image</legend>
        <input type="file" id="file" required>
      </fieldset>
      <fieldset><legend>Filters, applied in order</legend>
        <div id="stages"></div>
        <select id="filter"></select> <button type="button" id="add">Add filter</button>
      </fieldset>
      <fieldset><legend>Output</legend>
        <label>Format <select id="format">
          <option>png</option><option>jpg</option><option>webp</option><option>tif</option>
          <option>ppm</option><option>pgm</option></select></label>
        <label>Quality <input type="number" id="quality" min="1" max="100" placeholder="default"></label>
        <label>Token <input type="password" id="token" placeholder="if the service asks"></label>
      </fieldset>
      <button type="submit" id="submit">Process</button>
      <span id="status"></span>
    </form>
    <p id="error" role="alert"></p>
    <div id="panes">
      <figure><figcaption>Input</figcaption><img id="input-image" alt=""></figure>
      <figure><figcaption>Output <a id="download" hidden>download</a></figcaption><img id="output-image" alt="">
        <table id="phases" hidden><thead><tr><th>phase</th><th>ms (slowest rank)</th></tr></thead><tbody></tbody></table>
      </figure>
    </div>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    let filters = [];

    function headers() {
      const token = $("token").value.trim();
      return token ? { "Authorization": "Bearer " + token } : {};
    }

    async function loadOps() {
      const reply = await fetch("/v1/ops", { headers: headers() });
      if (!reply.ok) { $("error").textContent = (await reply.json()).error; return; }
      filters = await reply.json();
      $("filter").replaceChildren(...filters.map((f) => new Option(f.name + " - " + f.description, f.name)));
      if ($("stages").children.length === 0) addStage("sobel");
    }

    function addStage(name) {
      const filter = filters.find((f) => f.name === name);
      const stage = document.createElement("div");
      stage.className = "stage";
      stage.dataset.name = name;
      const title = document.createElement("strong");
      title.textContent = name + " ";
      stage.append(title);
      for (const p of filter.parameters) {
        const label = document.createElement("label");
        label.title = p.help + " (" + p.min + " to " + p.max + ")";
        const input = document.createElement("input");
        input.name = p.name;
        input.dataset.type = p.type;
        if (p.type === "bool") { input.type = "checkbox"; input.checked = p.default !== 0; }
        else { input.type = "number"; input.min = p.min; input.max = p.max; input.step = p.type === "int" ? (p.odd ? 2 : 1) : "any"; input.value = p.default; }
        label.append(p.name + " ", input);
        stage.append(label);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "remove";
      remove.onclick = () => stage.remove();
      stage.append(remove);
      $("stages").append(stage);
    }

    function specs() {
      return [...$("stages").children].map((stage) => {
        const values = [...stage.querySelectorAll("input")].map((input) =>
          input.name + "=" + (input.type === "checkbox" ? String(input.checked) : input.value));
        return values.length ? stage.dataset.name + ":" + values.join(",") : stage.dataset.name;
      });
    }

    function showPhases(timing) {
      const body = $("phases").querySelector("tbody");
      body.replaceChildren();
      for (const entry of (timing || "").split(",")) {
        const match = entry.trim().match(/^([a-z]+);dur=([0-9.]+)$/);
        if (!match) continue;
        const row = body.insertRow();
        row.insertCell().textContent = match[1];
        row.insertCell().textContent = Number(match[2]).toFixed(2);
      }
      $("phases").hidden = body.rows.length === 0;
    }

    $("add").onclick = () => addStage($("filter").value);
    $("token").onchange = loadOps;
    $("file").onchange = () => {
      const file = $("file").files[0];
      if (file) $("input-image").src = URL.createObjectURL(file);
    };

    $("job").onsubmit = async (event) => {
      event.preventDefault();
      const file = $("file").files[0];
      if (!file) return;
      $("error").textContent = "";
      $("status").textContent = "working...";
      $("output-image").removeAttribute("src");
      $("download").hidden = true;
      $("phases").hidden = true;
      const query = new URLSearchParams();
      for (const spec of specs()) query.append("op", spec);
      const format = $("format").value;
      query.append("format", format);
      if ($("quality").value) query.append("quality", $("quality").value);
      try {
        const reply = await fetch("/v1/process?" + query, { method: "POST", body: file, headers: headers() });
        if (!reply.ok) {
          let line = reply.status + " " + reply.statusText;
          try { line = (await reply.json()).error; } catch (_) {}
          $("error").textContent = "error: " + line;
          $("status").textContent = "";
          return;
        }
        const blob = await reply.blob();
        const url = URL.createObjectURL(blob);
        $("output-image").src = url;
        $("download").href = url;
        $("download").download = file.name.replace(/\.[^.]*$/, "") + "-bandsaw." + format;
        $("download").hidden = false;
        showPhases(reply.headers.get("Server-Timing"));
        $("status").textContent = "done";
      } catch (failure) {
        $("error").textContent = "error: " + failure;
        $("status").textContent = "";
      }
    };
    loadOps();
    </script>
    </body>
    </html>
    """#
}
