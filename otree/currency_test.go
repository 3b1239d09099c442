package otree

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// withCurrencyFormat applies setCurrencyFormat for the rest of the test and
// restores the previous settings afterwards.
func withCurrencyFormat(tb testing.TB, pointsDecimals, realDecimals int, code, name string) {
	tb.Helper()
	pp, rp, rc, pn := pointsPlaces, realPlaces, realCurrencyCode, pointsName
	tb.Cleanup(func() {
		pointsPlaces, realPlaces, realCurrencyCode, pointsName = pp, rp, rc, pn
	})
	setCurrencyFormat(pointsDecimals, realDecimals, code, name)
}

// expectOtreePanic runs f and fails unless it panics with a message starting
// "otree: ".
func expectOtreePanic(tb testing.TB, call string, f func()) {
	tb.Helper()
	defer func() {
		tb.Helper()
		r := recover()
		if r == nil {
			tb.Fatalf("%s did not panic", call)
		}
		if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "otree: ") {
			tb.Fatalf("%s panicked with %q, want an \"otree: \" message", call, msg)
		}
	}()
	f()
}

type pointCount int

func TestCu(t *testing.T) {
	tests := []struct {
		name string
		got  Currency
		want string
	}{
		{"int", Cu(103), "103"},
		{"negative int", Cu(-7), "-7"},
		{"int8", Cu(int8(-128)), "-128"},
		{"uint64", Cu(uint64(42)), "42"},
		{"named int type", Cu(pointCount(5)), "5"},
		{"float32", Cu(float32(2.5)), "3"},
		{"2.5 rounds up", Cu(2.5), "3"},
		{"3.5 rounds up, not to even", Cu(3.5), "4"},
		{"0.5", Cu(0.5), "1"},
		{"-0.5 rounds away from zero", Cu(-0.5), "-1"},
		{"-2.5 rounds away from zero", Cu(-2.5), "-3"},
		{"5.4", Cu(5.4), "5"},
		{"-5.4", Cu(-5.4), "-5"},
		{"-0.4 is zero", Cu(-0.4), "0"},
		{"largest whole amount", Cu(9223372036854), "9223372036854"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.Decimal(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// A float is rounded from its exact binary value, so 1.005 (stored as
// 1.00499999…) rounds down even though it is written with a trailing 5.
func TestCuExactFloat(t *testing.T) {
	withCurrencyFormat(t, 2, 2, "", "")
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"1.005 is below the tie", 1.005, "1.00"},
		{"2.675 is below the tie", 2.675, "2.67"},
		{"1.125 is an exact tie", 1.125, "1.13"},
		{"-1.125 is an exact tie", -1.125, "-1.13"},
		{"2.345 is above the tie", 2.345, "2.35"},
		{"tiny", 1e-300, "0.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cu(tt.in).Decimal(); got != tt.want {
				t.Errorf("Cu(%v) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestCurrencyArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  Currency
		want Currency
	}{
		{"3*1.8", Cu(3).Mul(1.8), Cu(5)},
		{"3*1.8/3", Cu(3).Mul(1.8).Div(3), Cu(2)},
		{"60*1.8/3", Cu(60).Mul(1.8).Div(3), Cu(36)},
		{"300*1.8/3", Cu(300).Mul(1.8).Div(3), Cu(180)},
		{"20*2/3", Cu(20).Mul(2).Div(3), Cu(13)},
		{"10*2/3", Cu(10).Mul(2).Div(3), Cu(7)},
		{"20/3", Cu(20).Div(3), Cu(7)},
		{"10/3", Cu(10).Div(3), Cu(3)},
		{"100/3", Cu(100).Div(3), Cu(33)},
		{"100/2", Cu(100).Div(2), Cu(50)},
		{"5/2 ties up", Cu(5).Div(2), Cu(3)},
		{"-5/2 ties away from zero", Cu(-5).Div(2), Cu(-3)},
		{"-3*1.8", Cu(-3).Mul(1.8), Cu(-5)},
		{"-7/2 ties away from zero", Cu(7).Div(-2), Cu(-4)},
		{"0*1.8", Cu(0).Mul(1.8), Cu(0)},
		{"add", Cu(100).Add(Cu(3)), Cu(103)},
		{"sub", Cu(100).Sub(Cu(103)), Cu(-3)},
		{"neg", Cu(4).Neg(), Cu(-4)},
		{"abs of negative", Cu(-4).Abs(), Cu(4)},
		{"abs of positive", Cu(4).Abs(), Cu(4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// Rounding after every operation makes results differ from exact
// arithmetic, and the intermediate product is first rounded to Python's 28
// significant digits; oTree's numbers depend on both.
func TestCurrencyDoubleRounding(t *testing.T) {
	tests := []struct {
		name  string
		got   Currency
		want  string
		exact string // what exact arithmetic would give
	}{
		{"3*1.8/3", Cu(3).Mul(1.8).Div(3), "2", "1.8"},
		{"7*1.8/3", Cu(7).Mul(1.8).Div(3), "4", "4.2"},
		{"1*1.8/3", Cu(1).Mul(1.8).Div(3), "1", "0.6"},
		{"2/3*3", Cu(2).Div(3).Mul(3), "3", "2"},
		{
			"product rounded to 28 digits reaches the tie",
			Cu(9000000000001).Mul(0.5183401763661091),
			"4665061587296", "4665061587295.4999999999999995559…",
		},
		{
			"quotient rounded to 28 digits reaches the tie",
			Cu(3922117440946).Div(1.901705884278375),
			"2062420626329", "2062420626328.4999999999999999416…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.Decimal(); got != tt.want {
				t.Errorf("got %s, want %s (exact arithmetic: %s)", got, tt.want, tt.exact)
			}
		})
	}
}

// A participant's total is the sum of the rounded round payoffs, not the
// rounded exact total.
func TestCurrencyTotalOverRounds(t *testing.T) {
	var rounds []Currency
	for range 10 {
		rounds = append(rounds, Cu(7).Mul(1.8).Div(3))
	}
	if rounds[0] != Cu(4) {
		t.Fatalf("Cu(7).Mul(1.8).Div(3) = %v, want 4 points", rounds[0])
	}
	if got := SumCu(rounds...); got != Cu(40) {
		t.Errorf("SumCu(rounds) = %v, want 40 points (exact arithmetic: 42)", got)
	}
	var running Currency
	for _, p := range rounds {
		running = running.Add(p)
	}
	if running != Cu(40) {
		t.Errorf("running total = %v, want 40 points", running)
	}
}

// The acceptance table of public_goods_simple: share = total × 1.8 / 3,
// payoff = 100 − contribution + share.
func TestPublicGoodsPayoffs(t *testing.T) {
	tests := []struct {
		name          string
		contributions [3]int
		total, share  int
		payoffs       [3]int
	}{
		{"1,1,1", [3]int{1, 1, 1}, 3, 2, [3]int{101, 101, 101}},
		{"100,100,100", [3]int{100, 100, 100}, 300, 180, [3]int{180, 180, 180}},
		{"0,0,0", [3]int{0, 0, 0}, 0, 0, [3]int{100, 100, 100}},
		{"10,20,30", [3]int{10, 20, 30}, 60, 36, [3]int{126, 116, 106}},
		{"1,0,0", [3]int{1, 0, 0}, 1, 1, [3]int{100, 101, 101}},
		{"33,33,34", [3]int{33, 33, 34}, 100, 60, [3]int{127, 127, 126}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := Sum(tt.contributions[:], func(c int) Currency { return Cu(c) })
			share := total.Mul(1.8).Div(3)
			if total != Cu(tt.total) || share != Cu(tt.share) {
				t.Fatalf("total, share = %v, %v; want %d, %d", total, share, tt.total, tt.share)
			}
			for i, c := range tt.contributions {
				if got := Cu(100).Sub(Cu(c)).Add(share); got != Cu(tt.payoffs[i]) {
					t.Errorf("payoff of player %d = %v, want %d", i+1, got, tt.payoffs[i])
				}
			}
		})
	}
}

func TestCurrencyPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"Div by zero", func() { Cu(1).Div(0) }},
		{"Div by negative zero", func() { Cu(1).Div(math.Copysign(0, -1)) }},
		{"Div by NaN", func() { Cu(1).Div(math.NaN()) }},
		{"Mul by Inf", func() { Cu(1).Mul(math.Inf(1)) }},
		{"Cu(NaN)", func() { Cu(math.NaN()) }},
		{"Cu(-Inf)", func() { Cu(math.Inf(-1)) }},
		{"Cu too large", func() { Cu(10_000_000_000_000) }},
		{"Cu float too large", func() { Cu(1e300) }},
		{"Cu uint64 too large", func() { Cu(uint64(math.MaxUint64)) }},
		{"Add overflow", func() { Cu(9223372036854).Add(Cu(9223372036854)) }},
		{"Sub overflow", func() { Cu(-9223372036854).Sub(Cu(9223372036854)) }},
		{"Mul overflow", func() { Cu(9223372036854).Mul(2) }},
		{"Div overflow", func() { Cu(9223372036854).Div(0.5) }},
		{"CurrencyRange zero step", func() { CurrencyRange(Cu(0), Cu(10), Cu(0)) }},
		{"CurrencyRange negative step", func() { CurrencyRange(Cu(0), Cu(10), Cu(-1)) }},
		{"setCurrencyFormat 7 places", func() { setCurrencyFormat(7, 2, "", "") }},
		{"setCurrencyFormat negative places", func() { setCurrencyFormat(0, -1, "", "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectOtreePanic(t, tt.name, tt.f)
		})
	}
}

func TestCurrencyCompare(t *testing.T) {
	tests := []struct {
		name       string
		a, b       Currency
		cmp        int
		less       bool
		max, min   Currency
		signA      int
		aIsZero    bool
		equalAfter bool
	}{
		{"less", Cu(1), Cu(2), -1, true, Cu(2), Cu(1), 1, false, false},
		{"equal", Cu(2), Cu(2), 0, false, Cu(2), Cu(2), 1, false, true},
		{"greater", Cu(3), Cu(-2), 1, false, Cu(3), Cu(-2), 1, false, false},
		{"negative", Cu(-3), Cu(0), -1, true, Cu(0), Cu(-3), -1, false, false},
		{"zero", Cu(0), Currency{}, 0, false, Cu(0), Cu(0), 0, true, true},
		{"rounded operand", Cu(5), Cu(5.4), 0, false, Cu(5), Cu(5), 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Cmp(tt.b); got != tt.cmp {
				t.Errorf("%v.Cmp(%v) = %d, want %d", tt.a, tt.b, got, tt.cmp)
			}
			if got := tt.a.Less(tt.b); got != tt.less {
				t.Errorf("%v.Less(%v) = %t, want %t", tt.a, tt.b, got, tt.less)
			}
			if got := MaxCu(tt.a, tt.b); got != tt.max {
				t.Errorf("MaxCu = %v, want %v", got, tt.max)
			}
			if got := MinCu(tt.a, tt.b); got != tt.min {
				t.Errorf("MinCu = %v, want %v", got, tt.min)
			}
			if got := tt.a.Sign(); got != tt.signA {
				t.Errorf("%v.Sign() = %d, want %d", tt.a, got, tt.signA)
			}
			if got := tt.a.IsZero(); got != tt.aIsZero {
				t.Errorf("%v.IsZero() = %t, want %t", tt.a, got, tt.aIsZero)
			}
			if got := tt.a == tt.b; got != tt.equalAfter {
				t.Errorf("%v == %v is %t, want %t", tt.a, tt.b, got, tt.equalAfter)
			}
		})
	}
}

// Currency values are comparable, so they work as map keys.
func TestCurrencyMapKey(t *testing.T) {
	counts := map[Currency]int{}
	for _, v := range []float64{4.6, 5, 5.4, 6} {
		counts[Cu(v)]++
	}
	if counts[Cu(5)] != 3 || counts[Cu(6)] != 1 {
		t.Errorf("counts = %v, want 5 points three times and 6 points once", counts)
	}
}

func TestCurrencyConversions(t *testing.T) {
	tests := []struct {
		name    string
		places  int
		in      float64
		float   float64
		integer int
		decimal string
	}{
		{"whole", 0, 103, 103, 103, "103"},
		{"negative whole", 0, -7, -7, -7, "-7"},
		{"zero", 0, 0, 0, 0, "0"},
		{"two places", 2, 1.5, 1.5, 1, "1.50"},
		{"Int truncates", 2, 2.75, 2.75, 2, "2.75"},
		{"Int truncates toward zero", 2, -2.75, -2.75, -2, "-2.75"},
		{"six places", 6, 0.000001, 0.000001, 0, "0.000001"},
		{"largest", 6, 9223372036854.775, 9223372036854.775, 9223372036854, "9223372036854.775391"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, tt.places, 2, "", "")
			c := Cu(tt.in)
			if got := c.Float64(); got != tt.float {
				t.Errorf("Float64() = %v, want %v", got, tt.float)
			}
			if got := c.Int(); got != tt.integer {
				t.Errorf("Int() = %d, want %d", got, tt.integer)
			}
			if got := c.Decimal(); got != tt.decimal {
				t.Errorf("Decimal() = %q, want %q", got, tt.decimal)
			}
		})
	}
}

// A value created before the places were lowered keeps its digits until
// an operation rounds it again.
func TestCurrencyFormatChange(t *testing.T) {
	withCurrencyFormat(t, 2, 2, "", "")
	c := Cu(2.75)
	setCurrencyFormat(0, 2, "", "")
	if got := c.Decimal(); got != "2.75" {
		t.Errorf("Decimal() after lowering the places = %q, want %q", got, "2.75")
	}
	if got := c.Add(Cu(0)); got != Cu(3) {
		t.Errorf("Add(0) after lowering the places = %v, want 3 points", got)
	}
}

func TestCurrencyString(t *testing.T) {
	tests := []struct {
		name   string
		places int
		pname  string
		in     float64
		want   string
	}{
		{"plural", 0, "", 103, "103 points"},
		{"singular", 0, "", 1, "1 point"},
		{"zero", 0, "", 0, "0 points"},
		{"minus one is plural", 0, "", -1, "-1 points"},
		{"negative", 0, "", -12, "-12 points"},
		{"two places", 2, "", 1.5, "1.50 points"},
		{"one with two places", 2, "", 1, "1.00 point"},
		{"custom name", 0, "tokens", 5, "5 tokens"},
		{"custom name singular", 0, "tokens", 1, "1 token"},
		{"custom name without s", 0, "ECU", 1, "1 ECU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, tt.places, 2, "", tt.pname)
			c := Cu(tt.in)
			if got := c.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := fmt.Sprint(c); got != tt.want {
				t.Errorf("fmt.Sprint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		name    string
		places  int
		in      string
		want    string
		wantErr string
	}{
		{"integer", 0, "12", "12", ""},
		{"spaces", 0, " 12 ", "12", ""},
		{"decimal comma rounds half-up", 0, "12,5", "13", ""},
		{"decimal point rounds half-up", 0, "12.5", "13", ""},
		{"negative tie", 0, "-12.5", "-13", ""},
		{"plus sign", 0, "+7", "7", ""},
		{"leading point", 0, ".5", "1", ""},
		{"trailing point", 0, "5.", "5", ""},
		{"two places", 2, "1,005", "1.01", ""},
		{"exact decimal is not a float", 2, "2.675", "2.68", ""},
		{"many zeros", 0, "000000000000000000000000012", "12", ""},
		{"empty", 0, "", "", `otree: "" is not a number`},
		{"blank", 0, "   ", "", `otree: "   " is not a number`},
		{"letters", 0, "abc", "", `otree: "abc" is not a number`},
		{"exponent", 0, "1e3", "", `otree: "1e3" is not a number`},
		{"NaN", 0, "NaN", "", `otree: "NaN" is not a number`},
		{"Inf", 0, "Inf", "", `otree: "Inf" is not a number`},
		{"thousands separator", 0, "1,234.5", "", `otree: "1,234.5" is not a number`},
		{"two commas", 0, "1,2,3", "", `otree: "1,2,3" is not a number`},
		{"sign only", 0, "-", "", `otree: "-" is not a number`},
		{"point only", 0, ".", "", `otree: "." is not a number`},
		{"unit", 0, "5 points", "", `otree: "5 points" is not a number`},
		{"too large", 0, "10000000000000", "", `otree: "10000000000000" is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, tt.places, 2, "", "")
			got, err := ParseCurrency(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseCurrency(%q) error = %v, want %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Decimal() != tt.want {
				t.Fatalf("ParseCurrency(%q) = %v, %v; want %s", tt.in, got.Decimal(), err, tt.want)
			}
		})
	}
}

func TestCurrencyJSON(t *testing.T) {
	type payoff struct {
		Payoff Currency `json:"payoff"`
	}
	tests := []struct {
		name   string
		places int
		in     float64
		want   string
	}{
		{"integer", 0, 103, `{"payoff":103}`},
		{"negative", 0, -3, `{"payoff":-3}`},
		{"two places", 2, 1.5, `{"payoff":1.50}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, tt.places, 2, "", "")
			c := Cu(tt.in)
			data, err := json.Marshal(payoff{c})
			if err != nil || string(data) != tt.want {
				t.Fatalf("json.Marshal = %s, %v; want %s", data, err, tt.want)
			}
			var back payoff
			if err := json.Unmarshal(data, &back); err != nil || back.Payoff != c {
				t.Fatalf("json.Unmarshal(%s) = %v, %v; want %v", data, back.Payoff, err, c)
			}
		})
	}
}

func TestCurrencyUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Currency
		wantErr bool
	}{
		{"integer", `103`, Cu(103), false},
		{"float rounds", `12.5`, Cu(13), false},
		{"exponent", `1.2e2`, Cu(120), false},
		{"string", `"12,5"`, Cu(13), false},
		{"null leaves the value", `null`, Cu(9), false},
		{"bad string", `"abc"`, Cu(9), true},
		{"boolean", `true`, Cu(9), true},
		{"too large", `1e20`, Cu(9), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Cu(9)
			err := c.UnmarshalJSON([]byte(tt.in))
			if (err != nil) != tt.wantErr || c != tt.want {
				t.Errorf("UnmarshalJSON(%s) = %v, %v; want %v, error %t", tt.in, c, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "otree: ") {
				t.Errorf("UnmarshalJSON(%s) error %q lacks the otree prefix", tt.in, err)
			}
		})
	}
}

func TestCurrencyText(t *testing.T) {
	withCurrencyFormat(t, 2, 2, "", "")
	text, err := Cu(-6.5).MarshalText()
	if err != nil || string(text) != "-6.50" {
		t.Fatalf("MarshalText() = %q, %v; want %q", text, err, "-6.50")
	}
	var c Currency
	if err := c.UnmarshalText(text); err != nil || c != Cu(-6.5) {
		t.Fatalf("UnmarshalText(%q) = %v, %v; want -6.50 points", text, c, err)
	}
	if err := c.UnmarshalText([]byte("x")); err == nil || c != Cu(-6.5) {
		t.Errorf("UnmarshalText(x) = %v, %v; want an error and no change", c, err)
	}
}

func TestCurrencyScan(t *testing.T) {
	tests := []struct {
		name    string
		places  int
		src     any
		want    string
		wantErr bool
	}{
		{"int64", 0, int64(103), "103", false},
		{"float64", 0, 102.0, "102", false},
		{"float64 keeps its shortest form", 2, 6.03, "6.03", false},
		{"float64 rounds", 0, 2.5, "3", false},
		{"string", 2, "6.03", "6.03", false},
		{"bytes", 0, []byte("101"), "101", false},
		{"numeric text with exponent", 0, "1E+2", "100", false},
		{"nil", 0, nil, "0", false},
		{"bool", 0, true, "7", true},
		{"bad string", 0, "abc", "7", true},
		{"NaN", 0, math.NaN(), "7", true},
		{"int64 too large", 0, int64(math.MaxInt64), "7", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, tt.places, 2, "", "")
			c := Cu(7)
			err := c.Scan(tt.src)
			if (err != nil) != tt.wantErr || c.Decimal() != tt.want {
				t.Errorf("Scan(%#v) = %s, %v; want %s, error %t", tt.src, c.Decimal(), err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCurrencyValue(t *testing.T) {
	withCurrencyFormat(t, 2, 2, "", "")
	v, err := Cu(6.03).Value()
	if err != nil || v != "6.03" {
		t.Errorf("Value() = %#v, %v; want %q", v, err, "6.03")
	}
	if got := Cu(1).GormDataType(); got != "numeric" {
		t.Errorf("GormDataType() = %q, want %q", got, "numeric")
	}
}

func TestCurrencyRange(t *testing.T) {
	tests := []struct {
		name              string
		places            int
		first, last, step float64
		want              string
	}{
		{"both ends", 0, 0, 10, 5, "0 5 10"},
		{"last not reached", 0, 0, 9, 5, "0 5"},
		{"single", 0, 3, 3, 1, "3"},
		{"empty", 0, 5, 0, 1, ""},
		{"negative", 0, -2, 0, 1, "-2 -1 0"},
		{"fractional step", 2, 0, 1, 0.25, "0.00 0.25 0.50 0.75 1.00"},
		{"near the limit", 0, 9223372036852, 9223372036854, 1, "9223372036852 9223372036853 9223372036854"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, tt.places, 2, "", "")
			var got []string
			for _, c := range CurrencyRange(Cu(tt.first), Cu(tt.last), Cu(tt.step)) {
				got = append(got, c.Decimal())
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("CurrencyRange(%v, %v, %v) = %q, want %q", tt.first, tt.last, tt.step, s, tt.want)
			}
		})
	}
}

func TestSum(t *testing.T) {
	type player struct{ payoff Currency }
	players := []player{{Cu(126)}, {Cu(116)}, {Cu(106)}}
	if got := Sum(players, func(p player) Currency { return p.payoff }); got != Cu(348) {
		t.Errorf("Sum(players) = %v, want 348 points", got)
	}
	if got := SumCu(); got != Cu(0) {
		t.Errorf("SumCu() = %v, want 0 points", got)
	}
}

func FuzzParseCurrency(f *testing.F) {
	for _, s := range []string{"12", " 12 ", "12,5", "-0.5", "", "abc", "1e3", "NaN",
		"9223372036854", "9223372036854.775807", "0.0000005", "+.5", "1,2"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, places uint8) {
		withCurrencyFormat(t, int(places%7), 2, "", "")
		c, err := ParseCurrency(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "otree: ") {
				t.Fatalf("ParseCurrency(%q) error %q lacks the otree prefix", s, err)
			}
			return
		}
		back, err := ParseCurrency(c.Decimal())
		if err != nil || back != c {
			t.Fatalf("ParseCurrency(%q) = %v; parsing its Decimal %q gave %v, %v",
				s, c, c.Decimal(), back, err)
		}
		number, _, _ := strings.Cut(c.String(), " ")
		if back, err := ParseCurrency(number); err != nil || back != c {
			t.Fatalf("String() %q does not parse back to %v: %v, %v", c.String(), c, back, err)
		}
		var viaJSON Currency
		if data, _ := c.MarshalJSON(); viaJSON.UnmarshalJSON(data) != nil || viaJSON != c {
			t.Fatalf("JSON round trip of %v gave %v", c, viaJSON)
		}
	})
}

// The public goods game of oTree's tutorial: three players contribute 10,
// 20 and 30 points of an endowment of 100; the total is multiplied by 1.8
// and shared equally, with rounding to whole points at each step.
func ExampleCurrency() {
	endowment := Cu(100)
	contributions := []Currency{Cu(10), Cu(20), Cu(30)}

	total := SumCu(contributions...)
	share := total.Mul(1.8).Div(3)
	fmt.Println("total:", total)
	fmt.Println("share:", share)
	for i, c := range contributions {
		fmt.Printf("player %d: %v\n", i+1, endowment.Sub(c).Add(share))
	}

	// Each step rounds: 3 × 1.8 = 5.4 becomes 5, and 5 / 3 becomes 2.
	fmt.Println("share of 3:", Cu(3).Mul(1.8).Div(3))
	// Output:
	// total: 60 points
	// share: 36 points
	// player 1: 126 points
	// player 2: 116 points
	// player 3: 106 points
	// share of 3: 2 points
}
