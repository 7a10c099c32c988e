package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/storetest"
)

func TestIAMStore(t *testing.T) {
	storetest.RunIAM(t, func(t *testing.T) userevents.Store {
		return openDB(t, filepath.Join(t.TempDir(), "userevents.db"))
	})
}
