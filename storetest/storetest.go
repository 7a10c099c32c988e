// Package storetest is the contract suite for userevents.Store. Every store
// implementation runs it from its own tests, so that all of them behave
// alike.
package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/userevents/userevents"
)

// Project ids used by the suite. They follow the 32-hex-character form of
// real project ids.
const (
	projectA = "0123456789abcdef0123456789abcdef"
	projectB = "fedcba9876543210fedcba9876543210"
)

// testCase is one behaviour of the contract, run on a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, s userevents.Store)
}

// Run runs every test of the contract as a subtest. open must return a new,
// empty store for each call and close it when the test ends, typically with
// t.Cleanup. The suite uses the store's real clock, and it waits a few
// milliseconds where it needs a lease to expire.
func Run(t *testing.T, open func(t *testing.T) userevents.Store) {
	var cases []testCase
	cases = append(cases, eventCases...)
	cases = append(cases, ltsConfigCases...)
	cases = append(cases, outboxCases...)
	cases = append(cases, logGroupCases...)
	cases = append(cases, logLineCases...)
	cases = append(cases, identityCases...)
	cases = append(cases, testCase{"Ping", testPing})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

func testPing(t *testing.T, s userevents.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() error = %v", err)
	}
}

// requireCode fails the test unless err carries the domain error code.
func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := userevents.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (error: %v)", got, code, err)
	}
}

// requireNoError fails the test when err is not nil.
func requireNoError(t *testing.T, err error, call string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s error = %v", call, err)
	}
}

// requireEqual fails the test unless got and want are deeply equal.
func requireEqual(t *testing.T, name string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %+v, want %+v", name, got, want)
	}
}

// requireTimeEqual fails the test unless got and want are the same instant.
func requireTimeEqual(t *testing.T, name string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %s, want %s", name, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

// requireTimeBetween fails the test unless got lies in [lo, hi], allowing
// for the store truncating times to the microsecond.
func requireTimeBetween(t *testing.T, name string, got, lo, hi time.Time) {
	t.Helper()
	lo = lo.Truncate(time.Microsecond)
	if got.Before(lo) || got.After(hi) {
		t.Fatalf("%s = %s, want between %s and %s", name, got.Format(time.RFC3339Nano),
			lo.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano))
	}
}

// at returns the UTC time on 2024-05-01 at the clock reading, with
// microseconds.
func at(hour, minute, second, micro int) time.Time {
	return time.Date(2024, 5, 1, hour, minute, second, micro*1000, time.UTC)
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// label returns a distinct name for the i-th of several objects.
func label(prefix string, i int) string {
	return fmt.Sprintf("%s-%03d", prefix, i)
}
