package load

import (
	"math/rand/v2"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestFormValues(t *testing.T) {
	tests := []struct {
		name string
		html string
		want url.Values // nil: the form cannot be submitted
	}{
		{
			name: "fixed number",
			html: `<input type="number" name="n" min="7" max="7" step="1" required><button>Next</button>`,
			want: url.Values{"n": {"7"}},
		},
		{
			name: "radios, select and text",
			html: `<input type="radio" name="agree" value="True" required>
				<input type="radio" name="agree" value="False" required>
				<select name="color" required><option value="">---------</option>
				<option value="red">Red</option><option value="green">Green</option></select>
				<select name="size"><option>big</option><option>small</option></select>
				<input type="text" name="note" maxlength="10000">
				<textarea name="essay" maxlength="5"></textarea>
				<input type="hidden" name="token" value="a&amp;b">
				<button type="submit" class="otree-btn-next">Next</button>`,
			want: url.Values{"agree": {"True"}, "color": {"red"}, "size": {"big"}, "note": {"x"},
				"essay": {"x"}, "token": {"a&b"}},
		},
		{
			name: "buttons that set a field",
			html: `<input type="hidden" name="accept" value="">
				<button name="accept" value="True">Accept</button>
				<button name="accept" value="False">Reject</button>`,
			want: url.Values{"accept": {"True"}},
		},
		{
			name: "ignored: disabled, comments, scripts, reset buttons, unchecked boxes",
			html: `<input name="off" disabled value="1"><!-- <input name="old" value="1"> -->
				<script>var s = '<input name="js">';</script>
				<input type="checkbox" name="opt" value="True"><input type="checkbox" name="must" required>
				<button type="reset">Reset</button><input type="submit" value="Go">`,
			want: url.Values{"must": {"on"}},
		},
		{
			name: "attribute values holding '>'",
			html: `<input type="text" name="q" placeholder="a > b" value="kept"><button>Next</button>`,
			want: url.Values{"q": {"kept"}},
		},
		{
			name: "last page",
			html: `<form method="post" id="form"><p>Thank you.</p><button type="button">Print</button></form>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := parseForm(tc.html)
			if !f.submittable() {
				if tc.want != nil {
					t.Fatalf("parseForm(%s) has no submit button, want one", tc.html)
				}
				return
			}
			if tc.want == nil {
				t.Fatalf("parseForm(%s) has buttons %v, want none", tc.html, f.buttons)
			}
			got := f.values(rand.New(rand.NewPCG(1, 2)))
			if got.Encode() != tc.want.Encode() {
				t.Errorf("values = %s, want %s", got.Encode(), tc.want.Encode())
			}
		})
	}
}

// Numbers are drawn on the step grid within the bounds, and reach both.
func TestNumber(t *testing.T) {
	tests := []struct {
		min, max, step string
		lo, hi         float64
		places         int
	}{
		{"0", "100", "1", 0, 100, 0},
		{"3", "9", "", 3, 9, 0},
		{"0.5", "1.5", "any", 0.5, 1.5, 1},
		{"0", "1", "0.01", 0, 1, 2},
		{"", "10", "1", -90, 10, 0},
		{"-5", "", "1", -5, 95, 0},
		{"", "", "", 0, 100, 0},
		{"4", "2", "1", 4, 4, 0},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range tests {
		fd := &field{kind: "number", min: tc.min, max: tc.max, step: tc.step}
		seen := map[float64]bool{}
		for range 2000 {
			s := fd.number(rng)
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || x < tc.lo || x > tc.hi || decimals(s) != tc.places {
				t.Fatalf("number(min %q, max %q, step %q) = %q, want a number in [%v, %v] with %d places",
					tc.min, tc.max, tc.step, s, tc.lo, tc.hi, tc.places)
			}
			seen[x] = true
		}
		if !seen[tc.lo] || !seen[tc.hi] {
			t.Errorf("number(min %q, max %q, step %q) never drew %v or %v", tc.min, tc.max, tc.step, tc.lo, tc.hi)
		}
	}
}

func TestSummarise(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarise(ds)
	want := Latency{Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond,
		P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("summarise(1..100 ms) = %+v, want %+v", got, want)
	}
	if got := summarise(nil); got != (Latency{}) {
		t.Errorf("summarise(nil) = %+v, want zero", got)
	}
}

func TestRouteOf(t *testing.T) {
	for path, want := range map[string]string{
		"/p/abc/public_goods/Contribute/2": "public_goods/Contribute",
		"/InitializeParticipant/abc":       "InitializeParticipant",
		"/OutOfRangeNotification/abc":      "OutOfRangeNotification",
		"/somewhere/else/entirely":         "/somewhere/else/entirely",
	} {
		if got := routeOf(path); got != want {
			t.Errorf("routeOf(%q) = %q, want %q", path, got, want)
		}
	}
}
