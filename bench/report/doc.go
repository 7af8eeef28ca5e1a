// Package report is the model of bench/results/report.json and its
// Markdown rendering, report.md: every number with its baseline and the
// ratio, and the targets marked met or missed.
package report
