package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/userevents/userevents"
)

var logGroupCases = []testCase{
	{"CreateLogGroup/stores every field", testLogGroupRoundTrip},
	{"CreateLogGroup/generates id", testLogGroupGeneratedID},
	{"CreateLogGroup/name taken", testLogGroupNameConflict},
	{"CreateLogGroup/id taken", testLogGroupIDConflict},
	{"CreateLogGroup/quota", testLogGroupQuota},
	{"FindLogGroupByID/not found", testLogGroupNotFound},
	{"UpdateLogGroup/sets ttl", testLogGroupUpdate},
	{"DeleteLogGroup/cascades to streams and lines", testLogGroupDeleteCascade},
	{"CreateLogStream/stores every field", testLogStreamRoundTrip},
	{"CreateLogStream/unknown group", testLogStreamUnknownGroup},
	{"CreateLogStream/name taken", testLogStreamNameConflict},
	{"CreateLogStream/quota", testLogStreamQuota},
	{"FindLogStreams/filters", testLogStreamFilters},
	{"FindLogStreamByID/not found", testLogStreamNotFound},
	{"UpdateLogStream/sets ttl", testLogStreamUpdate},
	{"DeleteLogStream/deletes lines", testLogStreamDelete},
}

func createGroup(t *testing.T, s userevents.Store, projectID, name string) *userevents.LogGroup {
	t.Helper()
	g := &userevents.LogGroup{ProjectID: projectID, Name: name, TTLDays: userevents.DefaultTTLDays}
	requireNoError(t, s.CreateLogGroup(t.Context(), g), "CreateLogGroup()")
	return g
}

func createStream(t *testing.T, s userevents.Store, g *userevents.LogGroup, name string) *userevents.LogStream {
	t.Helper()
	st := &userevents.LogStream{
		ProjectID: g.ProjectID, GroupID: g.ID, Name: name, TTLDays: userevents.DefaultTTLDays,
	}
	requireNoError(t, s.CreateLogStream(t.Context(), st), "CreateLogStream()")
	return st
}

// streamNames returns the "group/stream" name of each stream, in order.
func streamNames(streams []*userevents.LogStream) []string {
	names := []string{}
	for _, st := range streams {
		names = append(names, st.GroupName+"/"+st.Name)
	}
	return names
}

func testLogGroupRoundTrip(t *testing.T, s userevents.Store) {
	g := &userevents.LogGroup{
		ID:        "0f8fad5b-d9cb-469f-a165-70867728950e",
		ProjectID: projectA,
		Name:      "lts-group-workspace",
		Alias:     "Workspace events",
		TTLDays:   7,
		Tags:      map[string]string{"env": "test", "owner": "ops"},
		CreatedAt: at(10, 0, 0, 5),
	}
	requireNoError(t, s.CreateLogGroup(t.Context(), g), "CreateLogGroup()")

	got, err := s.FindLogGroupByID(t.Context(), projectA, g.ID)
	requireNoError(t, err, "FindLogGroupByID()")
	requireEqual(t, "group", *got, *g)

	groups, err := s.FindLogGroups(t.Context(), projectA)
	requireNoError(t, err, "FindLogGroups()")
	requireEqual(t, "number of groups", len(groups), 1)
	requireEqual(t, "listed group", *groups[0], *g)

	others, err := s.FindLogGroups(t.Context(), projectB)
	requireNoError(t, err, "FindLogGroups()")
	if others == nil || len(others) != 0 {
		t.Fatalf("FindLogGroups() of another project = %v, want an empty slice", others)
	}
}

func testLogGroupGeneratedID(t *testing.T, s userevents.Store) {
	before := time.Now()
	g := createGroup(t, s, projectA, "generated")
	after := time.Now()
	if _, err := uuid.Parse(g.ID); err != nil || len(g.ID) != 36 {
		t.Fatalf("generated ID = %q, want a 36-character UUID", g.ID)
	}
	requireTimeBetween(t, "CreatedAt", g.CreatedAt, before, after)

	got, err := s.FindLogGroupByID(t.Context(), projectA, g.ID)
	requireNoError(t, err, "FindLogGroupByID()")
	requireTimeEqual(t, "stored CreatedAt", got.CreatedAt, g.CreatedAt)
}

func testLogGroupNameConflict(t *testing.T, s userevents.Store) {
	createGroup(t, s, projectA, "taken")
	err := s.CreateLogGroup(t.Context(), &userevents.LogGroup{ProjectID: projectA, Name: "taken"})
	requireCode(t, err, userevents.ECONFLICT)

	createGroup(t, s, projectB, "taken")
	createGroup(t, s, projectA, "Taken")
	groups, err := s.FindLogGroups(t.Context(), projectA)
	requireNoError(t, err, "FindLogGroups()")
	requireEqual(t, "number of groups", len(groups), 2)
}

func testLogGroupIDConflict(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "first")
	err := s.CreateLogGroup(t.Context(), &userevents.LogGroup{ID: g.ID, ProjectID: projectA, Name: "second"})
	requireCode(t, err, userevents.ECONFLICT)
}

func testLogGroupQuota(t *testing.T, s userevents.Store) {
	for i := range userevents.MaxLogGroups {
		createGroup(t, s, projectA, label("group", i))
	}
	err := s.CreateLogGroup(t.Context(), &userevents.LogGroup{ProjectID: projectA, Name: "one-too-many"})
	requireCode(t, err, userevents.EQUOTA)

	createGroup(t, s, projectB, "other-project")

	groups, err := s.FindLogGroups(t.Context(), projectA)
	requireNoError(t, err, "FindLogGroups()")
	requireEqual(t, "number of groups", len(groups), userevents.MaxLogGroups)
	requireNoError(t, s.DeleteLogGroup(t.Context(), projectA, groups[0].ID), "DeleteLogGroup()")
	createGroup(t, s, projectA, "fits-after-delete")
}

func testLogGroupNotFound(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "mine")
	_, err := s.FindLogGroupByID(t.Context(), projectA, uuid.NewString())
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindLogGroupByID(t.Context(), projectB, g.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	requireCode(t, s.UpdateLogGroup(t.Context(), projectB, g.ID, 3), userevents.ENOTFOUND)
	requireCode(t, s.DeleteLogGroup(t.Context(), projectB, g.ID), userevents.ENOTFOUND)
}

func testLogGroupUpdate(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "ttl")
	requireNoError(t, s.UpdateLogGroup(t.Context(), projectA, g.ID, 365), "UpdateLogGroup()")
	got, err := s.FindLogGroupByID(t.Context(), projectA, g.ID)
	requireNoError(t, err, "FindLogGroupByID()")
	requireEqual(t, "TTLDays", got.TTLDays, 365)
	requireEqual(t, "Name", got.Name, "ttl")
}

func testLogGroupDeleteCascade(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "doomed")
	st := createStream(t, s, g, "stream")
	appendLines(t, s, st, line(at(10, 0, 0, 0), "hello", nil))
	keptGroup := createGroup(t, s, projectA, "keptGroup")
	keptStream := createStream(t, s, keptGroup, "stream")
	appendLines(t, s, keptStream, line(at(10, 0, 0, 0), "keptGroup", nil))

	requireNoError(t, s.DeleteLogGroup(t.Context(), projectA, g.ID), "DeleteLogGroup()")

	_, err := s.FindLogGroupByID(t.Context(), projectA, g.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindLogStreamByID(t.Context(), projectA, g.ID, st.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	_, _, err = s.FindLogs(t.Context(), userevents.LogQuery{
		ProjectID: projectA, GroupID: g.ID, StreamID: st.ID, Limit: 10,
	})
	requireCode(t, err, userevents.ENOTFOUND)
	requireCode(t, s.DeleteLogGroup(t.Context(), projectA, g.ID), userevents.ENOTFOUND)

	streams, err := s.FindLogStreams(t.Context(), userevents.LogStreamFilter{ProjectID: projectA})
	requireNoError(t, err, "FindLogStreams()")
	requireEqual(t, "remaining streams", streamNames(streams), []string{"keptGroup/stream"})
	_, total := findLines(t, s, userevents.LogQuery{
		ProjectID: projectA, GroupID: keptGroup.ID, StreamID: keptStream.ID, Limit: 10,
	})
	requireEqual(t, "lines in keptGroup stream", total, 1)

	// The name is free again.
	again := createGroup(t, s, projectA, "doomed")
	createStream(t, s, again, "stream")
}

func testLogStreamRoundTrip(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "group")
	st := &userevents.LogStream{
		ID:        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
		ProjectID: projectA,
		GroupID:   g.ID,
		Name:      "lts-topic-events",
		Alias:     "events",
		TTLDays:   30,
		Tags:      map[string]string{"k": "v"},
		CreatedAt: at(10, 0, 0, 9),
	}
	requireNoError(t, s.CreateLogStream(t.Context(), st), "CreateLogStream()")
	requireEqual(t, "GroupName after create", st.GroupName, "group")

	got, err := s.FindLogStreamByID(t.Context(), projectA, g.ID, st.ID)
	requireNoError(t, err, "FindLogStreamByID()")
	requireEqual(t, "stream", *got, *st)

	generated := createStream(t, s, g, "generated")
	if _, err := uuid.Parse(generated.ID); err != nil || len(generated.ID) != 36 {
		t.Fatalf("generated ID = %q, want a 36-character UUID", generated.ID)
	}
}

func testLogStreamUnknownGroup(t *testing.T, s userevents.Store) {
	err := s.CreateLogStream(t.Context(), &userevents.LogStream{
		ProjectID: projectA, GroupID: uuid.NewString(), Name: "orphan",
	})
	requireCode(t, err, userevents.ENOTFOUND)

	other := createGroup(t, s, projectB, "other")
	err = s.CreateLogStream(t.Context(), &userevents.LogStream{
		ProjectID: projectA, GroupID: other.ID, Name: "cross-project",
	})
	requireCode(t, err, userevents.ENOTFOUND)
}

func testLogStreamNameConflict(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "one")
	first := createStream(t, s, g, "taken")
	err := s.CreateLogStream(t.Context(), &userevents.LogStream{ProjectID: projectA, GroupID: g.ID, Name: "taken"})
	requireCode(t, err, userevents.ECONFLICT)
	err = s.CreateLogStream(t.Context(), &userevents.LogStream{
		ID: first.ID, ProjectID: projectA, GroupID: g.ID, Name: "other-name",
	})
	requireCode(t, err, userevents.ECONFLICT)

	two := createGroup(t, s, projectA, "two")
	createStream(t, s, two, "taken")
}

func testLogStreamQuota(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "full")
	for i := range userevents.MaxLogStreamsPerGroup {
		createStream(t, s, g, label("stream", i))
	}
	err := s.CreateLogStream(t.Context(), &userevents.LogStream{ProjectID: projectA, GroupID: g.ID, Name: "one-too-many"})
	requireCode(t, err, userevents.EQUOTA)

	other := createGroup(t, s, projectA, "empty")
	createStream(t, s, other, "fits")
}

func testLogStreamFilters(t *testing.T, s userevents.Store) {
	g1 := createGroup(t, s, projectA, "g1")
	g2 := createGroup(t, s, projectA, "g2")
	createStream(t, s, g1, "s1")
	createStream(t, s, g1, "s2")
	createStream(t, s, g2, "s1")
	createStream(t, s, createGroup(t, s, projectB, "g1"), "s1")

	tests := []struct {
		name   string
		filter userevents.LogStreamFilter
		want   []string
	}{
		{"none", userevents.LogStreamFilter{}, []string{"g1/s1", "g1/s2", "g2/s1"}},
		{"group id", userevents.LogStreamFilter{GroupID: g2.ID}, []string{"g2/s1"}},
		{"group name", userevents.LogStreamFilter{GroupName: "g1"}, []string{"g1/s1", "g1/s2"}},
		{"stream name", userevents.LogStreamFilter{StreamName: "s1"}, []string{"g1/s1", "g2/s1"}},
		{"group and stream name", userevents.LogStreamFilter{GroupName: "g1", StreamName: "s2"},
			[]string{"g1/s2"}},
		{"no match", userevents.LogStreamFilter{GroupName: "g3"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.filter.ProjectID = projectA
			streams, err := s.FindLogStreams(t.Context(), tt.filter)
			requireNoError(t, err, "FindLogStreams()")
			requireEqual(t, "streams", streamNames(streams), tt.want)
		})
	}
}

func testLogStreamNotFound(t *testing.T, s userevents.Store) {
	g1 := createGroup(t, s, projectA, "g1")
	g2 := createGroup(t, s, projectA, "g2")
	st := createStream(t, s, g1, "s")

	_, err := s.FindLogStreamByID(t.Context(), projectA, g2.ID, st.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindLogStreamByID(t.Context(), projectB, g1.ID, st.ID)
	requireCode(t, err, userevents.ENOTFOUND)
	_, err = s.FindLogStreamByID(t.Context(), projectA, g1.ID, uuid.NewString())
	requireCode(t, err, userevents.ENOTFOUND)
	requireCode(t, s.UpdateLogStream(t.Context(), projectA, g2.ID, st.ID, 3), userevents.ENOTFOUND)
	requireCode(t, s.DeleteLogStream(t.Context(), projectA, g2.ID, st.ID), userevents.ENOTFOUND)
}

func testLogStreamUpdate(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "g")
	st := createStream(t, s, g, "s")
	requireNoError(t, s.UpdateLogStream(t.Context(), projectA, g.ID, st.ID, 1), "UpdateLogStream()")
	got, err := s.FindLogStreamByID(t.Context(), projectA, g.ID, st.ID)
	requireNoError(t, err, "FindLogStreamByID()")
	requireEqual(t, "TTLDays", got.TTLDays, 1)
}

func testLogStreamDelete(t *testing.T, s userevents.Store) {
	g := createGroup(t, s, projectA, "g")
	st := createStream(t, s, g, "s")
	appendLines(t, s, st, line(at(10, 0, 0, 0), "gone", nil))
	requireNoError(t, s.DeleteLogStream(t.Context(), projectA, g.ID, st.ID), "DeleteLogStream()")

	_, _, err := s.FindLogs(t.Context(), userevents.LogQuery{
		ProjectID: projectA, GroupID: g.ID, StreamID: st.ID, Limit: 10,
	})
	requireCode(t, err, userevents.ENOTFOUND)
	requireCode(t, s.DeleteLogStream(t.Context(), projectA, g.ID, st.ID), userevents.ENOTFOUND)

	// A new stream of the same name starts empty.
	again := createStream(t, s, g, "s")
	_, total := findLines(t, s, userevents.LogQuery{
		ProjectID: projectA, GroupID: g.ID, StreamID: again.ID, Limit: 10,
	})
	requireEqual(t, "lines in new stream", total, 0)
}
