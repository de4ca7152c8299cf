package audit

import (
	"fmt"
	"strings"
)

// Severity ranks a finding: Info < Low < Medium < High. The zero value is
// Info.
type Severity int

// The severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
)

// Severities returns every severity, highest first (the order findings are
// printed in).
func Severities() []Severity { return []Severity{High, Medium, Low, Info} }

// String returns "info", "low", "medium" or "high".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for _, sev := range Severities() {
		if strings.EqualFold(strings.TrimSpace(s), sev.String()) {
			return sev, nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q: want info, low, medium or high", s)
}

// MarshalText renders the severity's name, so JSON carries "high", not 3.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Info || s > High {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
