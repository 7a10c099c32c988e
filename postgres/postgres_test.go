package postgres_test

import (
	"testing"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	databaseURL(t)
	storetest.Run(t, func(t *testing.T) userevents.Store {
		return openDB(t, newSchema(t))
	})
}

func TestIAMStore(t *testing.T) {
	t.Parallel()
	databaseURL(t)
	storetest.RunIAM(t, func(t *testing.T) userevents.Store {
		return openDB(t, newSchema(t))
	})
}
