//! How deep a statement the engine plans, and the stack a query's threads need for it.
//!
//! DataFusion plans, optimizes, names and runs expressions and plans by recursion, much
//! of it without its stack guard (`recursive_protection` covers only some of it): a
//! chain of a few thousand operators (`1 + 1 + … + 1`, parsed by a loop, so the
//! parser's recursion limit does not see it), joins or CTEs overflows a thread's stack,
//! and a stack overflow aborts the whole process, with no error to report. So each
//! statement is measured after parsing and before planning: deeper or larger than
//! below is refused with an error naming the limit. The limits are well above what a
//! query of audit events needs (a long list of values is `IN (…)`, one level) and
//! within what [`QUERY_STACK_BYTES`] holds with room to spare, also in debug builds.
//!
//! The measuring walks the parsed statement by recursion too, but stops at the
//! limit; the parsed statement (dropped by recursion, as deep as its text is long)
//! and everything after must run on a thread with [`QUERY_STACK_BYTES`] of stack.

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::{Expr, Query, SetExpr, TableFactor, Visit, Visitor};

use crate::error::QueryError;

/// The deepest nesting of expressions one statement may have: operators (each
/// operator of a chain `a + b + c` is one level), calls, `CASE`, casts and scalar
/// subqueries together. SQLite's default bound is the same.
pub const MAX_EXPRESSION_DEPTH: usize = 1000;

/// The most tables, joins, subqueries, common table expressions and `SELECT`s
/// (each term of a `UNION`) one statement may have, together: each is a level of the
/// plan.
pub const MAX_QUERY_PARTS: usize = 500;

/// The stack of a thread that parses, plans or runs a query: enough for a statement at
/// the limits above in a debug build, and for dropping the parsed form of the longest
/// statement text a server or command line takes (up to a few MiB: dropping it
/// recurses once per operator of a chain). Only the pages used are memory.
pub const QUERY_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Refuses `statement` when it is deeper or larger than the limits above.
pub(crate) fn check(statement: &Statement) -> Result<(), QueryError> {
    let mut measure = Measure::default();
    match visit(statement, &mut measure) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(e) => Err(e),
    }
}

fn visit(statement: &Statement, measure: &mut Measure) -> ControlFlow<QueryError> {
    match statement {
        Statement::Statement(s) => s.visit(measure),
        Statement::Explain(e) => visit(&e.statement, measure),
        Statement::CopyTo(c) => match &c.source {
            CopyToSource::Query(q) => q.visit(measure),
            CopyToSource::Relation(_) => ControlFlow::Continue(()),
        },
        // No expression or query inside (and refused as definitions anyway).
        Statement::CreateExternalTable(_) | Statement::Reset(_) => ControlFlow::Continue(()),
    }
}

/// The nesting of the expression being walked, and the parts counted so far.
#[derive(Default)]
struct Measure {
    depth: usize,
    parts: usize,
}

impl Measure {
    fn part(&mut self, n: usize) -> ControlFlow<QueryError> {
        self.parts = self.parts.saturating_add(n);
        if self.parts > MAX_QUERY_PARTS {
            return ControlFlow::Break(QueryError::TooLarge {
                limit: MAX_QUERY_PARTS,
            });
        }
        ControlFlow::Continue(())
    }
}

impl Visitor for Measure {
    type Break = QueryError;

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<QueryError> {
        self.depth += 1;
        if self.depth > MAX_EXPRESSION_DEPTH {
            return ControlFlow::Break(QueryError::TooDeep {
                limit: MAX_EXPRESSION_DEPTH,
            });
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<QueryError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<QueryError> {
        // A query is a part, and so is each of its common table expressions and each
        // further term of a `UNION`: the terms are counted here, before the walk goes
        // down the chain of set operations (as deep as it is long).
        let ctes = query.with.as_ref().map_or(0, |w| w.cte_tables.len());
        self.part(1 + ctes + set_operations(&query.body))
    }

    fn pre_visit_table_factor(&mut self, _: &TableFactor) -> ControlFlow<QueryError> {
        self.part(1)
    }
}

/// The `UNION`/`INTERSECT`/`EXCEPT` operations of a query's body, counted without
/// recursion (not those of the queries nested in it: each is counted on its own).
fn set_operations(body: &SetExpr) -> usize {
    let mut n = 0usize;
    let mut todo = vec![body];
    while let Some(s) = todo.pop() {
        if let SetExpr::SetOperation { left, right, .. } = s {
            n += 1;
            todo.push(left);
            todo.push(right);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

    use super::*;
    use datafusion::sql::parser::DFParserBuilder;

    fn measured(sql: &str) -> Result<(), QueryError> {
        let mut statements = DFParserBuilder::new(sql)
            .build()
            .unwrap()
            .parse_statements()
            .unwrap();
        check(&statements.pop_front().unwrap())
    }

    #[test]
    fn a_chain_of_operators_at_the_limit_passes_and_one_more_is_refused() {
        // `1` alone is one level; each `+ 1` one more.
        let at = format!("SELECT 1{}", " + 1".repeat(MAX_EXPRESSION_DEPTH - 1));
        measured(&at).unwrap();
        let beyond = format!("{at} + 1");
        assert!(matches!(measured(&beyond), Err(QueryError::TooDeep { .. })));
    }

    #[test]
    fn joins_ctes_and_union_terms_count_as_parts() {
        let joins = (0..MAX_QUERY_PARTS)
            .map(|i| format!("(VALUES (1)) t{i}"))
            .collect::<Vec<_>>()
            .join(" CROSS JOIN ");
        assert!(matches!(
            measured(&format!("SELECT 1 FROM {joins}")),
            Err(QueryError::TooLarge { .. })
        ));
        let union = vec!["SELECT 1"; MAX_QUERY_PARTS + 1].join(" UNION ALL ");
        assert!(matches!(measured(&union), Err(QueryError::TooLarge { .. })));
        let ctes = (0..MAX_QUERY_PARTS)
            .map(|i| format!("c{i} AS (SELECT 1)"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(matches!(
            measured(&format!("WITH {ctes} SELECT 1")),
            Err(QueryError::TooLarge { .. })
        ));
        measured("WITH c AS (SELECT 1) SELECT * FROM c JOIN c d ON true UNION SELECT 2").unwrap();
    }
}
