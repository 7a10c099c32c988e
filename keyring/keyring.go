// Package keyring encrypts secrets at rest with AES-256-GCM under a key
// kept in its own file, apart from the database.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/userevents/userevents"
)

var _ userevents.Sealer = (*Keyring)(nil)

// KeySize is the length in bytes of an AES-256 key and of a key file.
const KeySize = 32

// Keyring is a userevents.Sealer that encrypts with AES-256-GCM. A sealed
// value is a random 12-byte nonce followed by the ciphertext and its
// 16-byte tag. It is safe for concurrent use.
type Keyring struct {
	aead cipher.AEAD
}

// New returns a Keyring for a KeySize-byte key.
func New(key []byte) (*Keyring, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("new keyring: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new keyring: %w", err)
	}
	return &Keyring{aead: aead}, nil
}

// LoadOrCreate returns a Keyring for the key in the file at path. When the
// file does not exist, it creates one with mode 0600 holding a new random
// key. It returns an error, rather than a new key, when the file exists but
// is not exactly KeySize bytes or is readable by anyone but its owner,
// because a replaced key would make every stored secret unreadable.
func LoadOrCreate(path string) (*Keyring, error) {
	key, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	return New(key)
}

func readKey(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %#o; make it readable by its owner only (chmod 600)",
			path, perm)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%s is %d bytes, want %d; restore the original key file",
			path, len(key), KeySize)
	}
	return key, nil
}

// createKey writes a new random key to path without replacing a file that
// another process created first, in which case it returns that file's key.
// The key is written and synced under a temporary name and then linked into
// place, so that a crash never leaves a partial key file at path.
func createKey(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".keyring-*")
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, key); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}

	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return key, nil
}

func writeSynced(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Seal encrypts plaintext under a fresh random nonce.
func (k *Keyring) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: generate nonce: %w", err)
	}
	return k.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// Open decrypts a value that Seal returned. It returns an error when the
// value is truncated, was altered, or was sealed under another key.
func (k *Keyring) Open(ciphertext []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(ciphertext) < n+k.aead.Overhead() {
		return nil, fmt.Errorf("open sealed value: %d bytes is too short", len(ciphertext))
	}
	plaintext, err := k.aead.Open(nil, ciphertext[:n], ciphertext[n:], nil)
	if err != nil {
		return nil, fmt.Errorf("open sealed value: %w", err)
	}
	return plaintext, nil
}
