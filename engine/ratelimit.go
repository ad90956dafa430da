package engine

// TokenBucket is client-go's token-bucket rate limiter (flowcontrol):
// QPS tokens per second up to Burst, starting full.
type TokenBucket struct {
	QPS    float64
	Burst  int
	tokens float64
	last   float64
	init   bool
}

// NewTokenBucket returns a full bucket. QPS ≤ 0 means unlimited.
func NewTokenBucket(qps float64, burst int) *TokenBucket {
	return &TokenBucket{QPS: qps, Burst: max(burst, 1)}
}

func (b *TokenBucket) refill(now float64) {
	if !b.init {
		b.tokens, b.last, b.init = float64(b.Burst), now, true
		return
	}
	if now > b.last {
		b.tokens = min(float64(b.Burst), b.tokens+(now-b.last)*b.QPS)
		b.last = now
	}
}

// Reserve takes a token, waiting for it if needed (client-go Wait), and
// returns how long the caller waits from now.
func (b *TokenBucket) Reserve(now float64) float64 {
	if b.QPS <= 0 {
		return 0
	}
	b.refill(now)
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return -b.tokens / b.QPS
}

// TryAccept takes a token if one is available now (client-go TryAccept).
func (b *TokenBucket) TryAccept(now float64) bool {
	if b.QPS <= 0 {
		return true
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
