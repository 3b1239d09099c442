package otree

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

func TestRealMoney(t *testing.T) {
	tests := []struct {
		name   string
		places int
		got    func() Money
		want   string
	}{
		{"int", 2, func() Money { return RealMoney(5) }, "5.00"},
		{"float", 2, func() Money { return RealMoney(6.03) }, "6.03"},
		{"binary value below the tie", 2, func() Money { return RealMoney(1.005) }, "1.00"},
		{"exact tie", 2, func() Money { return RealMoney(0.125) }, "0.13"},
		{"negative tie", 2, func() Money { return RealMoney(-0.125) }, "-0.13"},
		{"no places", 0, func() Money { return RealMoney(2.5) }, "3"},
		{"add", 2, func() Money { return RealMoney(1.03).Add(RealMoney(5)) }, "6.03"},
		{"sub", 2, func() Money { return RealMoney(1.03).Sub(RealMoney(5)) }, "-3.97"},
		{"neg", 2, func() Money { return RealMoney(1.5).Neg() }, "-1.50"},
		{"abs", 2, func() Money { return RealMoney(-1.5).Abs() }, "1.50"},
		{"mul", 2, func() Money { return RealMoney(10).Mul(0.333) }, "3.33"},
		{"mul ties up", 2, func() Money { return RealMoney(0.05).Mul(0.5) }, "0.03"},
		{"div", 2, func() Money { return RealMoney(10).Div(3) }, "3.33"},
		{"div rounds each step", 2, func() Money { return RealMoney(2).Div(3).Mul(3) }, "2.01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, 0, tt.places, "", "")
			if got := tt.got().Decimal(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMoneyPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"Div by zero", func() { RealMoney(1).Div(0) }},
		{"Mul by NaN", func() { RealMoney(1).Mul(math.NaN()) }},
		{"RealMoney(Inf)", func() { RealMoney(math.Inf(1)) }},
		{"Real too large", func() { RealMoney(int64(math.MaxInt64)) }},
		{"Add overflow", func() { RealMoney(9e12).Add(RealMoney(9e12)) }},
		{"ToMoney overflow", func() { Cu(9e12).ToMoney(100) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectOtreePanic(t, tt.name, tt.f)
		})
	}
}

// ToMoney multiplies in float64 as oTree's payoff_in_real_world_currency
// does, then rounds the product's binary value half-up.
func TestToMoney(t *testing.T) {
	tests := []struct {
		name     string
		points   Currency
		perPoint float64
		want     string
	}{
		{"103 points at 0.01", Cu(103), 0.01, "1.03"},
		{"102 points at 0.01", Cu(102), 0.01, "1.02"},
		{"101 points at 0.01", Cu(101), 0.01, "1.01"},
		{"one to one", Cu(180), 1, "180.00"},
		{"negative", Cu(-50), 0.1, "-5.00"},
		{"zero", Cu(0), 0.01, "0.00"},
		// 15.0 × 0.001 is the float 0.01499999…, so oTree pays 0.01;
		// decimal arithmetic on the exact binary 0.001 would pay 0.02.
		{"float product below the tie", Cu(15), 0.001, "0.01"},
		{"float product at 45 points", Cu(45), 0.001, "0.04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.points.ToMoney(tt.perPoint).Decimal(); got != tt.want {
				t.Errorf("%v.ToMoney(%v) = %s, want %s", tt.points, tt.perPoint, got, tt.want)
			}
		})
	}
}

// The payment of the acceptance run: payoffs of 103, 102 and 101 points at
// 0.01 per point plus a participation fee of 5.00.
func TestPaymentWithFee(t *testing.T) {
	fee := RealMoney(5)
	for _, tt := range []struct {
		name   string
		points Currency
		want   string
	}{
		{"103 points", Cu(103), "$6.03"},
		{"102 points", Cu(102), "$6.02"},
		{"101 points", Cu(101), "$6.01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.points.ToMoney(0.01).Add(fee).String(); got != tt.want {
				t.Errorf("payment = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMoneyCompare(t *testing.T) {
	a, b := RealMoney(1.5), RealMoney(2)
	if a.Cmp(b) != -1 || b.Cmp(a) != 1 || a.Cmp(RealMoney(1.5)) != 0 {
		t.Errorf("Cmp of %v and %v is wrong: %d, %d", a, b, a.Cmp(b), b.Cmp(a))
	}
	if !a.Less(b) || b.Less(a) {
		t.Errorf("%v.Less(%v) = %t, want true", a, b, a.Less(b))
	}
	if !(Money{}).IsZero() || a.IsZero() {
		t.Errorf("IsZero() is wrong")
	}
	if a.Neg().Sign() != -1 || (Money{}).Sign() != 0 || a.Sign() != 1 {
		t.Errorf("Sign() is wrong")
	}
	if got := RealMoney(6.03).Float64(); got != 6.03 {
		t.Errorf("Float64() = %v, want 6.03", got)
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		places int
		m      float64
		want   string
	}{
		{"dollars", "USD", 2, 6.03, "$6.03"},
		{"negative dollars", "USD", 2, -6.03, "-$6.03"},
		{"zero", "USD", 2, 0, "$0.00"},
		{"lowercase code", "usd", 2, 6, "$6.00"},
		{"euros", "EUR", 2, 6.03, "€6.03"},
		{"pounds", "GBP", 2, 6.03, "£6.03"},
		{"rupees", "INR", 2, 6.03, "₹ 6.03"},
		{"yen", "JPY", 0, 600, "600円"},
		{"negative yen", "JPY", 0, -600, "-600円"},
		{"won", "KRW", 0, 600, "600원"},
		{"yuan", "CNY", 2, 6.03, "6.03元"},
		{"Canadian dollars", "CAD", 2, 6.03, "$6.03"},
		{"kronor", "SEK", 2, 6.03, "kr6.03"},
		{"Swiss francs", "CHF", 2, 6.03, "CHF6.03"},
		{"unknown code", "XYZ", 2, -6.03, "-XYZ6.03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCurrencyFormat(t, 0, tt.places, tt.code, "")
			m := RealMoney(tt.m)
			if got := m.String(); got != tt.want {
				t.Errorf("RealMoney(%v).String() = %q, want %q", tt.m, got, tt.want)
			}
			if got := fmt.Sprint(m); got != tt.want {
				t.Errorf("fmt.Sprint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMoneyEncoding(t *testing.T) {
	type payment struct {
		Fee Money `json:"fee"`
	}
	data, err := json.Marshal(payment{RealMoney(6.03)})
	if err != nil || string(data) != `{"fee":6.03}` {
		t.Fatalf("json.Marshal = %s, %v; want %s", data, err, `{"fee":6.03}`)
	}
	var p payment
	if err := json.Unmarshal(data, &p); err != nil || p.Fee != RealMoney(6.03) {
		t.Fatalf("json.Unmarshal(%s) = %v, %v; want $6.03", data, p.Fee, err)
	}
	if err := json.Unmarshal([]byte(`{"fee":"5,5"}`), &p); err != nil || p.Fee != RealMoney(5.5) {
		t.Errorf(`json.Unmarshal of "5,5" = %v, %v; want $5.50`, p.Fee, err)
	}

	text, err := RealMoney(-1.5).MarshalText()
	if err != nil || string(text) != "-1.50" {
		t.Fatalf("MarshalText() = %q, %v; want %q", text, err, "-1.50")
	}
	var m Money
	if err := m.UnmarshalText(text); err != nil || m != RealMoney(-1.5) {
		t.Errorf("UnmarshalText(%q) = %v, %v; want -$1.50", text, m, err)
	}
	if v, err := RealMoney(6.03).Value(); err != nil || v != "6.03" {
		t.Errorf("Value() = %#v, %v; want %q", v, err, "6.03")
	}
	if got := m.GormDataType(); got != "numeric" {
		t.Errorf("GormDataType() = %q, want %q", got, "numeric")
	}
}

func TestMoneyScan(t *testing.T) {
	tests := []struct {
		name    string
		src     any
		want    string
		wantErr bool
	}{
		{"int64", int64(5), "5.00", false},
		{"float64", 6.03, "6.03", false},
		{"string", "6.035", "6.04", false},
		{"bytes", []byte("1.1"), "1.10", false},
		{"nil", nil, "0.00", false},
		{"unsupported", int32(1), "7.00", true},
		{"bad bytes", []byte("x"), "7.00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := RealMoney(7)
			err := m.Scan(tt.src)
			if (err != nil) != tt.wantErr || m.Decimal() != tt.want {
				t.Errorf("Scan(%#v) = %s, %v; want %s, error %t", tt.src, m.Decimal(), err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"decimal", "6.03", "6.03", ""},
		{"comma", " 6,035 ", "6.04", ""},
		{"integer", "5", "5.00", ""},
		{"empty", "", "", `otree: "" is not a number`},
		{"symbol", "$5", "", `otree: "$5" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMoney(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseMoney(%q) error = %v, want %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Decimal() != tt.want {
				t.Fatalf("ParseMoney(%q) = %s, %v; want %s", tt.in, got.Decimal(), err, tt.want)
			}
		})
	}
}
