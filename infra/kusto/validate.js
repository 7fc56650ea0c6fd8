// Parse and analyse KQL queries with Kusto.Language, the parser of Azure Data Explorer and Azure Monitor
// Logs, against a database schema: syntax, table and column names, function names and argument types.
//
// stdin:  lines of {"tables": {"<table>": {"<column>": "<kusto scalar type>"}}, "queries": {"<id>": "<kql>"}}
// stdout: a line for each: {"<id>": ["<code> <message> at <offset>", ...]} (errors only; empty when clean)
"use strict";

require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");

const Language = globalThis.Kusto.Language;
const Symbols = Language.Symbols;

function globalsFor(tables) {
  const symbols = Object.entries(tables).map(([name, columns]) => {
    const schema = Object.entries(columns)
      .map(([column, type]) => `['${column}']:${type}`)
      .join(", ");
    return new Symbols.TableSymbol.$ctor7(name, `(${schema})`, null);
  });
  const database = new Symbols.DatabaseSymbol.ctor("workspace", symbols);
  const cluster = new Symbols.ClusterSymbol.ctor("azure-monitor", [database]);
  return Language.GlobalState.Default.WithCluster(cluster).WithDatabase(database);
}

function errors(query, globals) {
  const diagnostics = Language.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics();
  const found = [];
  for (let index = 0; index < diagnostics.Count; index += 1) {
    const diagnostic = diagnostics.getItem(index);
    if (String(diagnostic.Severity) === "Error") {
      found.push(`${diagnostic.Code} ${diagnostic.Message} at ${diagnostic.Start}`);
    }
  }
  return found;
}

// One request a line, one answer a line: a caller keeps this process for all its checks, since starting
// Kusto.Language (its builtin functions and types) is most of a check's time.
const lines = require("readline").createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  if (!line.trim()) {
    return;
  }
  const request = JSON.parse(line);
  const globals = globalsFor(request.tables);
  const result = {};
  for (const [id, query] of Object.entries(request.queries)) {
    result[id] = errors(query, globals);
  }
  process.stdout.write(JSON.stringify(result) + "\n");
});
