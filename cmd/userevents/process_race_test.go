//go:build race

package main_test

// With the race detector on in the tests, the server binary is built with
// it too, so that a data race inside the server fails the test that ran it.
func init() { buildFlags = append(buildFlags, "-race") }
