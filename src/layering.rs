//! The crate's modules form layers: each top-level module may use those below it and never one
//! above, so there is no circle among them. This reads every `crate::<module>` path in `src/`
//! (outside comments and test modules) and fails on the first circle it finds, naming the files
//! that close it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `from` module -> `to` module -> the files whose code names `to`.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn source_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file without its test module and comments.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|first| first.trim_end_matches(".rs").to_owned())
            .expect("a module name");
        let code = code_of(&std::fs::read_to_string(&file).expect("a readable file"));
        for (at, _) in code.match_indices("crate::") {
            let used: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !used.is_empty() && used != module {
                graph
                    .entry(module.clone())
                    .or_default()
                    .entry(used)
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    graph
}

/// A path from `from` back to `to`, if there is one.
fn path_between(
    graph: &Graph,
    from: &str,
    to: &str,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if from == to {
        return Some(vec![to.to_owned()]);
    }
    if !seen.insert(from.to_owned()) {
        return None;
    }
    for next in graph.get(from).into_iter().flat_map(|uses| uses.keys()) {
        if let Some(mut rest) = path_between(graph, next, to, seen) {
            rest.insert(0, from.to_owned());
            return Some(rest);
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    assert!(
        graph.contains_key("api") && graph.contains_key("services"),
        "the graph was read: {:?}",
        graph.keys().collect::<Vec<_>>()
    );
    for (module, uses) in &graph {
        for (used, files) in uses {
            if let Some(back) = path_between(&graph, used, module, &mut BTreeSet::new()) {
                let closing = &graph[&back[back.len() - 2]][module];
                panic!(
                    "a circle: {module} -> {} (in {files:?}); it is closed by {closing:?}",
                    back.join(" -> ")
                );
            }
        }
    }
}

#[test]
fn a_circle_is_found() {
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a")] {
        graph
            .entry(from.to_owned())
            .or_default()
            .entry(to.to_owned())
            .or_default()
            .insert(format!("{from}.rs"));
    }
    assert_eq!(
        path_between(&graph, "b", "a", &mut BTreeSet::new()),
        Some(vec!["b".to_owned(), "c".to_owned(), "a".to_owned()])
    );
    assert_eq!(
        code_of("use crate::x;\n// crate::y\n#[cfg(test)]\nuse crate::z;"),
        "use crate::x;"
    );
}
