package jwt

const MaxReadTokens = maxReadTokens

// ReadTokens is how many tokens the store keeps now.
func ReadTokens() int {
	readTokens.mu.Lock()
	defer readTokens.mu.Unlock()
	return len(readTokens.m)
}

// ForgetJudgedResources empties the stores of judged claim resources.
func ForgetJudgedResources() {
	for _, s := range []*judgedResources{judgedDevices, judgedOrganizations, judgedPractitioners} {
		s.mu.Lock()
		s.m = nil
		s.mu.Unlock()
	}
}

// JudgedResources is how many resources the three stores keep now, in
// all and in the fullest.
func JudgedResources() (all, most int) {
	for _, s := range []*judgedResources{judgedDevices, judgedOrganizations, judgedPractitioners} {
		s.mu.Lock()
		all, most = all+len(s.m), max(most, len(s.m))
		s.mu.Unlock()
	}
	return all, most
}

const MaxJudgedResources = maxJudgedResources
