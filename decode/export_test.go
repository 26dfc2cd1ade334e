package decode

// Hooks for the external tests: how often the full chain walk ran, and a small cache.

func ChainWalks(v *Verifier) int64 { return v.walks.Load() }

func CacheLen(v *Verifier) int { return v.cache.len() }

func NewVerifierWithCacheSize(o Options, n int) *Verifier {
	v := NewVerifier(o)
	v.cache = newBoundedCache[chainKey, *chainEntry](n)
	return v
}

// ParseNodeTokens is the general parser the fast one must agree with.
func ParseNodeTokens(b []byte) (*Node, error) { return parseNodeTokens(b) }

// AppendString is the fast string writer that must agree with encoding/json.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }
