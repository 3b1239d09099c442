package otree

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Number is the set of Go numeric types that [Cu] and [RealMoney] accept.
type Number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64
}

// The currency settings, oTree's POINTS_DECIMAL_PLACES,
// REAL_WORLD_CURRENCY_DECIMAL_PLACES, REAL_WORLD_CURRENCY_CODE and
// POINTS_CUSTOM_NAME. setCurrencyFormat changes them once at start-up; they
// are read without locking.
var (
	pointsPlaces     = 0
	realPlaces       = 2
	realCurrencyCode = "USD"
	pointsName       = "points"
)

// scalePlaces is the fixed internal scale: amounts are stored in millionths,
// so no setting may ask for more than six decimal places.
const scalePlaces = 6

// setCurrencyFormat configures rounding and display of [Currency] and
// [Money]. The project configuration calls it once at start-up, before any
// session runs; it is not safe to call while amounts are being computed.
// Values created before the call keep the rounding they were created with
// until an operation rounds them again. An empty realCode or name
// keeps the default ("USD", "points"). It panics if a number of places is
// outside 0 to 6.
func setCurrencyFormat(pointsDecimals, realDecimals int, realCode, name string) {
	for _, p := range []int{pointsDecimals, realDecimals} {
		if p < 0 || p > scalePlaces {
			panic(fmt.Sprintf("otree: %d decimal places is outside 0 to %d", p, scalePlaces))
		}
	}
	pointsPlaces, realPlaces = pointsDecimals, realDecimals
	realCurrencyCode, pointsName = "USD", "points"
	if realCode != "" {
		realCurrencyCode = strings.ToUpper(realCode)
	}
	if name != "" {
		pointsName = name
	}
}

// A Currency is an amount of points, the counterpart of oTree's cu.
//
// Every constructed or computed value is rounded half-up (ties away from
// zero) to the configured number of points decimal places (oTree's
// POINTS_DECIMAL_PLACES, 0 by default), after every single operation, just
// as oTree does with Python's decimal module. So Cu(3).Mul(1.8).Div(3) is 2
// points, not the 1.8 exact arithmetic would give; experimenters' payoffs
// depend on that.
//
// The zero value is 0 points. A Currency is an immutable value: compare
// with ==, use it as a map key, share it between goroutines. oTree's
// cu(5) == 5.4 is written c == Cu(5.4). Amounts are held in millionths in
// an int64, so they range over ±9,223,372,036,854.775807 points; an
// operation whose result leaves that range panics.
type Currency struct {
	micros int64 // the amount in millionths of a point
}

// Cu returns v points, rounded half-up to the points decimal places. A
// float is converted from its exact binary value, as Python's
// Decimal(float) does: Cu(2.5) is 3, Cu(-2.5) is -3 and Cu(5.4) is 5. Cu
// panics if v is NaN, infinite or out of range.
func Cu[T Number](v T) Currency {
	return Currency{mustMicros(microsFromNumber(v, pointsPlaces))}
}

// Add returns c + d, rounded to the points places.
func (c Currency) Add(d Currency) Currency {
	return Currency{microsAdd(c.micros, d.micros, pointsPlaces)}
}

// Sub returns c − d, rounded to the points places.
func (c Currency) Sub(d Currency) Currency {
	return Currency{microsAdd(c.micros, -d.micros, pointsPlaces)}
}

// Neg returns −c.
func (c Currency) Neg() Currency {
	return Currency{microsRound(-c.micros, pointsPlaces)}
}

// Abs returns the absolute value of c.
func (c Currency) Abs() Currency {
	if c.micros < 0 {
		return c.Neg()
	}
	return Currency{microsRound(c.micros, pointsPlaces)}
}

// Mul returns c × f as oTree computes cu * f: the exact binary value of f
// times c, rounded to 28 significant digits (half-even, Python's default
// decimal context), then rounded half-up to the points places. So
// Cu(3).Mul(1.8) is 5. Mul panics if f is NaN or infinite or the result is
// out of range.
func (c Currency) Mul(f float64) Currency {
	return Currency{microsMul(c.micros, f, pointsPlaces)}
}

// Div returns c ÷ f as oTree computes cu / f, with the same two roundings
// as [Currency.Mul]: Cu(10).Div(3) is 3 and Cu(20).Div(3) is 7. Like
// integer division in Go, Div panics if f is zero; it also panics if f is
// NaN or infinite or the result is out of range.
func (c Currency) Div(f float64) Currency {
	return Currency{microsDiv(c.micros, f, pointsPlaces)}
}

// Cmp compares c and d and returns -1 if c < d, 0 if c == d and +1 if
// c > d.
func (c Currency) Cmp(d Currency) int {
	return cmpMicros(c.micros, d.micros)
}

// Less reports whether c < d.
func (c Currency) Less(d Currency) bool { return c.micros < d.micros }

// IsZero reports whether c is 0 points.
func (c Currency) IsZero() bool { return c.micros == 0 }

// Sign returns -1 if c < 0, 0 if c is zero and +1 if c > 0.
func (c Currency) Sign() int { return cmpMicros(c.micros, 0) }

// Float64 returns the float64 nearest to c, as Python's float(cu) does.
func (c Currency) Float64() float64 { return microsFloat64(c.micros) }

// Int returns the whole points in c, truncated toward zero as Python's
// int(cu) does: with two decimal places, Cu(2.75).Int() is 2 and
// Cu(-2.75).Int() is -2.
func (c Currency) Int() int { return int(c.micros / microsPerUnit) }

// Decimal returns c as a plain decimal string with exactly the points
// decimal places ("103", or "1.50" with two places). A value created before
// [setCurrencyFormat] lowered the places shows all its digits, so the
// string never loses precision.
func (c Currency) Decimal() string { return formatMicros(c.micros, pointsPlaces) }

// String returns c for display: "103 points", "1 point". Only an amount of
// exactly one is singular ("-1 points", "1.00 point" with two places), as
// in oTree's English translation. A custom points name replaces "points";
// its singular is the name without one trailing "s" ("1 token" for
// "tokens"), where oTree would show "1 tokens".
func (c Currency) String() string {
	name := pointsName
	if c.micros == microsPerUnit {
		name = strings.TrimSuffix(name, "s")
	}
	return c.Decimal() + " " + name
}

// MarshalJSON encodes c as a JSON number: an integer when the points have
// no decimal places ("103"), otherwise a decimal ("1.50").
func (c Currency) MarshalJSON() ([]byte, error) { return []byte(c.Decimal()), nil }

// UnmarshalJSON decodes a JSON number or a string accepted by
// [ParseCurrency], rounding it to the points places. JSON null leaves c
// unchanged.
func (c *Currency) UnmarshalJSON(data []byte) error {
	return unmarshalMicros(data, pointsPlaces, &c.micros)
}

// MarshalText encodes c as its [Currency.Decimal] string.
func (c Currency) MarshalText() ([]byte, error) { return []byte(c.Decimal()), nil }

// UnmarshalText decodes text as [ParseCurrency] does.
func (c *Currency) UnmarshalText(text []byte) error {
	d, err := ParseCurrency(string(text))
	if err != nil {
		return err
	}
	*c = d
	return nil
}

// Value implements driver.Valuer: c is stored as its decimal string, as
// oTree stores currency fields.
func (c Currency) Value() (driver.Value, error) { return c.Decimal(), nil }

// Scan implements sql.Scanner. It accepts int64, float64 (read through its
// shortest decimal form, so 6.03 stays 6.03), []byte and string, rounding
// to the points places. A NULL scans as zero; callers that must tell NULL
// from zero track it separately.
func (c *Currency) Scan(src any) error {
	return scanMicros(src, pointsPlaces, "Currency", &c.micros)
}

// GormDataType returns "numeric", the column type gorm uses for a
// Currency field.
func (c Currency) GormDataType() string { return "numeric" }

// ParseCurrency parses form input as an amount of points. Surrounding
// spaces are ignored and a decimal comma is read as a point ("12,5"). Like
// oTree, it accepts more decimal places than configured and rounds half-up
// ("12,5" is 13 points with no decimal places). Empty input, NaN,
// infinities, exponents ("1e3") and thousands separators are rejected.
func ParseCurrency(s string) (Currency, error) {
	v, err := parseMicros(s, pointsPlaces)
	return Currency{v}, err
}

// CurrencyRange returns first, first+step, … up to and including last,
// like oTree's currency_range; it is empty if first > last. It panics if
// step is not positive.
func CurrencyRange(first, last, step Currency) []Currency {
	if step.micros <= 0 {
		panic("otree: CurrencyRange step must be positive, got " + step.Decimal())
	}
	var out []Currency
	for c := first; c.micros <= last.micros; c = c.Add(step) {
		out = append(out, c)
		// The difference is exact as a uint64 because c <= last.
		if uint64(last.micros)-uint64(c.micros) < uint64(step.micros) {
			break
		}
	}
	return out
}

// Sum returns the sum of f over items, rounding after each addition as
// Python's sum over cu values does.
func Sum[T any](items []T, f func(T) Currency) Currency {
	var total Currency
	for _, it := range items {
		total = total.Add(f(it))
	}
	return total
}

// SumCu returns the sum of cs, rounding after each addition.
func SumCu(cs ...Currency) Currency {
	var total Currency
	for _, c := range cs {
		total = total.Add(c)
	}
	return total
}

// MaxCu returns the larger of a and b.
func MaxCu(a, b Currency) Currency {
	if a.micros < b.micros {
		return b
	}
	return a
}

// MinCu returns the smaller of a and b.
func MinCu(a, b Currency) Currency {
	if b.micros < a.micros {
		return b
	}
	return a
}

// The rest of this file is shared by Currency and Money: amounts in
// millionths, rounded to a number of places given by the caller.

var (
	errAmountRange = errors.New("otree: amount out of range")
	errNotFinite   = errors.New("otree: amount is not a finite number")
	errDivZero     = errors.New("otree: division by zero")
)

const (
	microsPerUnit = 1_000_000

	// maxMicros bounds every amount. MinInt64 is excluded so that negating
	// an amount never overflows.
	maxMicros = math.MaxInt64
	maxUnits  = maxMicros / microsPerUnit
)

// roundingUnit[p] is the step, in millionths, of an amount rounded to p
// decimal places.
var roundingUnit = [scalePlaces + 1]int64{1e6, 1e5, 1e4, 1e3, 100, 10, 1}

// pythonContext is Python's default decimal context, which oTree's
// arithmetic runs in: 28 significant digits, ties to even.
var pythonContext = func() apd.Context {
	c := apd.BaseContext.WithPrecision(28)
	c.Rounding = apd.RoundHalfEven
	return *c
}()

// quantizeContext rounds half-up to a number of places. Its precision only
// needs to hold an in-range amount (at most 19 digits).
var quantizeContext = func() apd.Context {
	c := apd.BaseContext.WithPrecision(40)
	c.Rounding = apd.RoundHalfUp
	return *c
}()

func mustMicros(v int64, err error) int64 {
	if err != nil {
		panic(err)
	}
	return v
}

func cmpMicros(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// microsFromNumber converts v to millionths rounded to places, telling the
// kind of T apart without reflection: only float types keep a half, and
// only unsigned types wrap below zero.
func microsFromNumber[T Number](v T, places int) (int64, error) {
	half := 0.5
	if T(half) != 0 {
		return microsFromFloat(float64(v), places)
	}
	var zero T
	if zero-1 > zero {
		if uint64(v) > maxUnits {
			return 0, errAmountRange
		}
		return int64(v) * microsPerUnit, nil
	}
	if n := int64(v); n > maxUnits || n < -maxUnits {
		return 0, errAmountRange
	}
	return int64(v) * microsPerUnit, nil
}

func microsFromFloat(f float64, places int) (int64, error) {
	d, err := exactDecimal(f)
	if err != nil {
		return 0, err
	}
	return microsFromDecimal(d, places)
}

// exactDecimal returns the exact value of f, as Python's Decimal(f) does.
// (apd's SetFloat64 goes through the shortest decimal form instead, which
// would turn 1.8 into 1.8 rather than 1.8000000000000000444….)
func exactDecimal(f float64) (*apd.Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errNotFinite
	}
	frac, exp := math.Frexp(math.Abs(f))
	mant := uint64(frac * (1 << 53)) // exact: frac has 53 significant bits
	exp -= 53
	if mant == 0 {
		return apd.New(0, 0), nil
	}
	tz := bits.TrailingZeros64(mant)
	mant >>= tz
	exp += tz

	// f = mant × 2^exp, which is mant × 5^-exp × 10^exp when exp < 0.
	coeff := new(apd.BigInt).SetUint64(mant)
	decExp := 0
	if exp >= 0 {
		coeff.Lsh(coeff, uint(exp))
	} else {
		pow5 := new(apd.BigInt).Exp(apd.NewBigInt(5), apd.NewBigInt(int64(-exp)), nil)
		coeff.Mul(coeff, pow5)
		decExp = exp
	}
	d := apd.NewWithBigInt(coeff, int32(decExp))
	d.Negative = f < 0
	return d, nil
}

// microsFromDecimal rounds d half-up to places and returns it in
// millionths.
func microsFromDecimal(d *apd.Decimal, places int) (int64, error) {
	if d.Form != apd.Finite {
		return 0, errNotFinite
	}
	if d.IsZero() {
		return 0, nil
	}
	// Refuse anything of 10^13 or more before quantizing: a huge exponent
	// would otherwise make Quantize build an enormous coefficient.
	if d.NumDigits()+int64(d.Exponent) > 13 {
		return 0, errAmountRange
	}
	var q apd.Decimal
	if _, err := quantizeContext.Quantize(&q, d, int32(-places)); err != nil {
		return 0, errAmountRange
	}
	q.Exponent += scalePlaces
	v, err := q.Int64()
	if err != nil || v == math.MinInt64 {
		return 0, errAmountRange
	}
	return v, nil
}

// microsRound rounds v half-up to places.
func microsRound(v int64, places int) int64 {
	unit := roundingUnit[places]
	q, r := v/unit, v%unit
	switch {
	case r*2 >= unit:
		q++
	case r*2 <= -unit:
		q--
	}
	if q > maxMicros/unit || q < -maxMicros/unit {
		panic(errAmountRange)
	}
	return q * unit
}

func microsAdd(a, b int64, places int) int64 {
	if (b > 0 && a > maxMicros-b) || (b < 0 && a < -maxMicros-b) {
		panic(errAmountRange)
	}
	return microsRound(a+b, places)
}

func microsMul(a int64, f float64, places int) int64 {
	y := mustDecimal(exactDecimal(f))
	var r apd.Decimal
	if _, err := pythonContext.Mul(&r, apd.New(a, -scalePlaces), y); err != nil {
		panic(errAmountRange)
	}
	return mustMicros(microsFromDecimal(&r, places))
}

func microsDiv(a int64, f float64, places int) int64 {
	y := mustDecimal(exactDecimal(f))
	if y.IsZero() {
		panic(errDivZero)
	}
	var r apd.Decimal
	if _, err := pythonContext.Quo(&r, apd.New(a, -scalePlaces), y); err != nil {
		panic(errAmountRange)
	}
	return mustMicros(microsFromDecimal(&r, places))
}

func mustDecimal(d *apd.Decimal, err error) *apd.Decimal {
	if err != nil {
		panic(err)
	}
	return d
}

// microsFloat64 returns the float64 nearest to v millionths. Going through
// the decimal string rounds once, where v/1e6 could round twice.
func microsFloat64(v int64) float64 {
	f, _ := strconv.ParseFloat(formatMicros(v, 0), 64)
	return f
}

// formatMicros formats v with at least places decimal places, and more if
// v has more nonzero digits.
func formatMicros(v int64, places int) string {
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
		v = -v
	}
	b.WriteString(strconv.FormatInt(v/microsPerUnit, 10))
	frac := fmt.Sprintf("%06d", v%microsPerUnit)
	n := max(places, len(strings.TrimRight(frac, "0")))
	if n > 0 {
		b.WriteByte('.')
		b.WriteString(frac[:n])
	}
	return b.String()
}

// parseMicros parses form input: optional sign, digits, and one decimal
// point or comma; no exponent.
func parseMicros(s string, places int) (int64, error) {
	t := strings.Replace(strings.TrimSpace(s), ",", ".", 1)
	if !isPlainDecimal(t) {
		return 0, fmt.Errorf("otree: %q is not a number", s)
	}
	d, _, err := apd.NewFromString(t)
	if err != nil {
		return 0, fmt.Errorf("otree: %q is not a number", s)
	}
	return microsFromInput(d, places, s)
}

func isPlainDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, points := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

// decodeMicros parses machine-written numbers (JSON, database columns),
// which may use exponents.
func decodeMicros(s string, places int) (int64, error) {
	d, _, err := apd.NewFromString(strings.TrimSpace(s))
	if err != nil || d.Form != apd.Finite {
		return 0, fmt.Errorf("otree: %q is not a number", s)
	}
	return microsFromInput(d, places, s)
}

// microsFromInput is microsFromDecimal for d parsed from input s, with an
// error naming s.
func microsFromInput(d *apd.Decimal, places int, s string) (int64, error) {
	v, err := microsFromDecimal(d, places)
	if err != nil {
		return 0, fmt.Errorf("otree: %q is out of range", s)
	}
	return v, nil
}

func unmarshalMicros(data []byte, places int, dst *int64) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	var v int64
	var err error
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("otree: decoding amount: %w", err)
		}
		v, err = parseMicros(s, places)
	} else {
		v, err = decodeMicros(string(data), places)
	}
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

func scanMicros(src any, places int, typeName string, dst *int64) error {
	var v int64
	var err error
	switch src := src.(type) {
	case nil:
	case int64:
		v, err = microsFromNumber(src, places)
		if err != nil {
			err = fmt.Errorf("otree: %d is out of range", src)
		}
	case float64:
		v, err = decodeMicros(strconv.FormatFloat(src, 'f', -1, 64), places)
	case []byte:
		v, err = decodeMicros(string(src), places)
	case string:
		v, err = decodeMicros(src, places)
	default:
		err = fmt.Errorf("otree: cannot scan %T into %s", src, typeName)
	}
	if err != nil {
		return err
	}
	*dst = v
	return nil
}
