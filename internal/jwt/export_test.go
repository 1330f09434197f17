package jwt

const MaxReadTokens = maxReadTokens

// ReadTokens is how many tokens the store keeps now.
func ReadTokens() int {
	readTokens.mu.Lock()
	defer readTokens.mu.Unlock()
	return len(readTokens.m)
}
