package redis

import (
	"testing"

	"github.com/gotree/gotree/channels/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
