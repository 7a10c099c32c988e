package keyring_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/userevents/userevents/keyring"
)

func TestSealOpenRoundTrip(t *testing.T) {
	k, err := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	for _, plain := range []string{"", "sk-test-000", string(bytes.Repeat([]byte("x"), 4096))} {
		sealed, err := k.Seal([]byte(plain))
		if err != nil {
			t.Fatalf("Seal() error = %v", err)
		}
		if len(plain) > 0 && bytes.Contains(sealed, []byte(plain)) {
			t.Fatalf("Seal(%q) output contains the plaintext", plain)
		}
		got, err := k.Open(sealed)
		if err != nil {
			t.Fatalf("Open() error = %v", err)
		}
		if string(got) != plain {
			t.Fatalf("Open(Seal(%q)) = %q", plain, got)
		}
	}
}

func TestSealUsesFreshNonce(t *testing.T) {
	k, _ := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	a, _ := k.Seal([]byte("same"))
	b, _ := k.Seal([]byte("same"))
	if bytes.Equal(a, b) {
		t.Fatal("two Seal() calls on the same plaintext returned the same bytes")
	}
}

func TestOpenRejects(t *testing.T) {
	k, _ := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	other, _ := keyring.New(bytes.Repeat([]byte{8}, keyring.KeySize))
	sealed, _ := k.Seal([]byte("sk-test-000"))
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1

	tests := []struct {
		name  string
		k     *keyring.Keyring
		input []byte
	}{
		{"altered", k, altered},
		{"truncated", k, sealed[:10]},
		{"empty", k, nil},
		{"other key", other, sealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.k.Open(tt.input); err == nil {
				t.Fatal("Open() succeeded, want an error")
			}
		})
	}
}

func TestNewRejectsKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := keyring.New(make([]byte, n)); err == nil {
			t.Errorf("New() with a %d-byte key succeeded, want an error", n)
		}
	}
}

func TestLoadOrCreateCreatesThenLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	first, err := keyring.LoadOrCreate(path)
	if err != nil {
		t.Fatalf("LoadOrCreate() error = %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat key file: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %#o, want 0600", info.Mode().Perm())
	}
	if info.Size() != keyring.KeySize {
		t.Errorf("key file size = %d, want %d", info.Size(), keyring.KeySize)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after creating the key, want 1", len(entries))
	}

	sealed, _ := first.Seal([]byte("sk-test-000"))
	second, err := keyring.LoadOrCreate(path)
	if err != nil {
		t.Fatalf("LoadOrCreate() of the existing file error = %v", err)
	}
	got, err := second.Open(sealed)
	if err != nil || string(got) != "sk-test-000" {
		t.Fatalf("Open() with the reloaded key = %q, %v; want the original", got, err)
	}
}

func TestLoadOrCreateRejectsBadFile(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"short", make([]byte, 16), 0o600},
		{"empty", nil, 0o600},
		{"long", make([]byte, 33), 0o600},
		{"group readable", make([]byte, keyring.KeySize), 0o640},
		{"world readable", make([]byte, keyring.KeySize), 0o604},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyring")
			if err := os.WriteFile(path, tt.data, tt.mode); err != nil {
				t.Fatalf("write key file: %v", err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatalf("chmod key file: %v", err)
			}
			if _, err := keyring.LoadOrCreate(path); err == nil {
				t.Fatal("LoadOrCreate() succeeded, want an error")
			}
			data, _ := os.ReadFile(path)
			if !bytes.Equal(data, tt.data) {
				t.Fatal("LoadOrCreate() changed the rejected key file")
			}
		})
	}
}

func TestLoadOrCreateMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "keyring")
	if _, err := keyring.LoadOrCreate(path); err == nil {
		t.Fatal("LoadOrCreate() in a missing directory succeeded, want an error")
	}
}
