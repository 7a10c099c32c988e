package auth

import "crypto/rand"

// Alphabets of generated credentials.
const (
	accessKeyAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alphanumericAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// NewAccessKeyID returns a random 20-character AK of upper-case letters
// and digits, the form of Huawei Cloud access key ids.
func NewAccessKeyID() string { return randomString(accessKeyAlphabet, 20) }

// NewSecretKey returns a random 40-character SK of letters and digits.
func NewSecretKey() string { return randomString(alphanumericAlphabet, 40) }

// RandomAlphanumeric returns n random letters and digits, for generated
// passwords.
func RandomAlphanumeric(n int) string { return randomString(alphanumericAlphabet, n) }

// randomString draws n characters uniformly from alphabet from
// crypto/rand, rejecting the random bytes that would bias the modulo.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}
