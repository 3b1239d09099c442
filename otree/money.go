package otree

import (
	"database/sql/driver"
	"strings"
)

// Money is an amount of real-world currency, the counterpart of oTree's
// RealWorldCurrency: participation fees and what participants are paid.
//
// It follows the same rules as [Currency], except that values are rounded
// half-up to the real-world currency decimal places (oTree's
// REAL_WORLD_CURRENCY_DECIMAL_PLACES, 2 by default), and it is displayed
// in the configured currency (REAL_WORLD_CURRENCY_CODE, "USD" by default).
// The zero value is 0; values are immutable, comparable with == and safe
// for concurrent use. Operations whose result leaves the range
// ±9,223,372,036,854.775807 panic.
type Money struct {
	micros int64 // the amount in millionths of the currency unit
}

// RealMoney returns v in real-world currency, rounded half-up to the
// real-world decimal places: RealMoney(5) is $5.00, and RealMoney(1.005)
// is $1.00 because the float 1.005 is slightly below 1.005. A float is
// converted from its exact binary value, as Python's Decimal(float) does.
// RealMoney panics if v is NaN, infinite or out of range.
func RealMoney[T Number](v T) Money {
	return Money{mustMicros(microsFromNumber(v, realPlaces))}
}

// ToMoney converts c to real-world currency at perPoint units of money per
// point, as oTree's payoff_in_real_world_currency does: float(points) ×
// perPoint is a float64 multiplication, whose exact binary value is then
// rounded half-up to the real-world places. Cu(103).ToMoney(0.01) is
// $1.03.
func (c Currency) ToMoney(perPoint float64) Money {
	return RealMoney(c.Float64() * perPoint)
}

// Add returns m + n, rounded to the real-world places.
func (m Money) Add(n Money) Money {
	return Money{microsAdd(m.micros, n.micros, realPlaces)}
}

// Sub returns m − n, rounded to the real-world places.
func (m Money) Sub(n Money) Money {
	return Money{microsAdd(m.micros, -n.micros, realPlaces)}
}

// Neg returns −m.
func (m Money) Neg() Money {
	return Money{microsRound(-m.micros, realPlaces)}
}

// Abs returns the absolute value of m.
func (m Money) Abs() Money {
	if m.micros < 0 {
		return m.Neg()
	}
	return Money{microsRound(m.micros, realPlaces)}
}

// Mul returns m × f, computed as [Currency.Mul] is but rounded to the
// real-world places. It panics if f is NaN or infinite or the result is out
// of range.
func (m Money) Mul(f float64) Money {
	return Money{microsMul(m.micros, f, realPlaces)}
}

// Div returns m ÷ f, computed as [Currency.Div] is but rounded to the
// real-world places. It panics if f is zero, NaN or infinite or the result
// is out of range.
func (m Money) Div(f float64) Money {
	return Money{microsDiv(m.micros, f, realPlaces)}
}

// Cmp compares m and n and returns -1 if m < n, 0 if m == n and +1 if
// m > n.
func (m Money) Cmp(n Money) int { return cmpMicros(m.micros, n.micros) }

// Less reports whether m < n.
func (m Money) Less(n Money) bool { return m.micros < n.micros }

// IsZero reports whether m is zero.
func (m Money) IsZero() bool { return m.micros == 0 }

// Sign returns -1 if m < 0, 0 if m is zero and +1 if m > 0.
func (m Money) Sign() int { return cmpMicros(m.micros, 0) }

// Float64 returns the float64 nearest to m.
func (m Money) Float64() float64 { return microsFloat64(m.micros) }

// Decimal returns m as a plain decimal string with exactly the real-world
// decimal places ("6.03"), or more for a value created before
// [setCurrencyFormat] lowered them.
func (m Money) Decimal() string { return formatMicros(m.micros, realPlaces) }

// String returns m for display as oTree shows it in English: "$6.03",
// "-$6.03", "€6.03", "£6.03", "₹ 6.03", "600円" for JPY (with 0 places
// configured), and otherwise the currency's symbol or code directly before
// the amount ("CHF6.03").
//
// BUG: only oTree's English formats are implemented; other languages place
// the symbol differently and use a decimal comma.
func (m Money) String() string {
	abs := m.micros
	if abs < 0 {
		abs = -abs
	}
	s := strings.Replace(moneyPattern(realCurrencyCode), "#", formatMicros(abs, realPlaces), 1)
	if m.micros < 0 {
		return "-" + s
	}
	return s
}

// MarshalJSON encodes m as a JSON number ("6.03").
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.Decimal()), nil }

// UnmarshalJSON decodes a JSON number or a string accepted by
// [ParseMoney], rounding it to the real-world places. JSON null leaves m
// unchanged.
func (m *Money) UnmarshalJSON(data []byte) error {
	return unmarshalMicros(data, realPlaces, &m.micros)
}

// MarshalText encodes m as its [Money.Decimal] string.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.Decimal()), nil }

// UnmarshalText decodes text as [ParseMoney] does.
func (m *Money) UnmarshalText(text []byte) error {
	n, err := ParseMoney(string(text))
	if err != nil {
		return err
	}
	*m = n
	return nil
}

// Value implements driver.Valuer: m is stored as its decimal string.
func (m Money) Value() (driver.Value, error) { return m.Decimal(), nil }

// Scan implements sql.Scanner as [Currency.Scan] does, rounding to the
// real-world places. A NULL scans as zero.
func (m *Money) Scan(src any) error {
	return scanMicros(src, realPlaces, "Money", &m.micros)
}

// GormDataType returns "numeric", the column type gorm uses for a Money
// field.
func (m Money) GormDataType() string { return "numeric" }

// ParseMoney parses form input as [ParseCurrency] does, rounding half-up
// to the real-world places.
func ParseMoney(s string) (Money, error) {
	v, err := parseMicros(s, realPlaces)
	return Money{v}, err
}

// moneyPattern returns oTree's English display pattern for a currency
// code, with # standing for the unsigned amount.
func moneyPattern(code string) string {
	switch code {
	case "USD", "CAD", "AUD", "SGD":
		return "$#"
	case "GBP":
		return "£#"
	case "EUR":
		return "€#"
	case "INR":
		return "₹ #"
	case "CNY":
		return "#元"
	case "JPY":
		return "#円"
	case "KRW":
		return "#원"
	}
	if sym, ok := currencySymbols[code]; ok {
		return sym + "#"
	}
	return code + "#"
}

// currencySymbols holds the symbols oTree puts before an amount in other
// currencies; codes missing here are shown as the code itself.
var currencySymbols = map[string]string{
	"ARS": "$",
	"BRL": "R$",
	"CZK": "Kč",
	"DKK": "kr",
	"EGP": "ج.م.",
	"HKD": "HK$",
	"HUF": "Ft",
	"ILS": "₪",
	"MXN": "$",
	"MYR": "RM",
	"NOK": "kr",
	"PLN": "zł",
	"RUB": "₽",
	"SEK": "kr",
	"TRY": "₺",
	"TWD": "$",
	"ZAR": "R",
}
