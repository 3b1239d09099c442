package otree

import (
	"strings"
	"testing"
)

func TestCheckTagKeys(t *testing.T) {
	tests := []struct {
		tag, want string // want: "" for no error, else part of it
	}{
		{``, ""},
		{`label:"Your offer" min:"0" max:"100" blank:"true"`, ""},
		{`gorm:"index" json:"offer,omitempty" db:"x" yaml:"y" xml:"z" env:"E" form:"f"`, ""},
		{`help:"a \"quoted\" word" choices:"1:One,2:Two"`, ""},
		{`mn:"0"`, `"mn" (did you mean min?)`},
		{`label:"x" lable:"y"`, `"lable" (did you mean label?)`},
		{`choice:"a,b"`, "did you mean choices?"},
		{`inital:"3"`, "did you mean initial?"},
		{`min:0`, "malformed"},
		{`min:"0`, "malformed"},
		{`label :"x"`, "malformed"},
	}
	for _, tt := range tests {
		err := checkTagKeys(tt.tag)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("checkTagKeys(%s) = %v, want nil", tt.tag, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("checkTagKeys(%s) = %v, want an error with %q", tt.tag, err, tt.want)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	tests := []struct {
		kind fieldKind
		in   string
		want any // nil: an error
	}{
		{kindInt, "5", int64(5)},
		{kindInt, " -7 ", int64(-7)},
		{kindInt, "25.0", int64(25)},
		{kindInt, "25,0", int64(25)},
		{kindInt, "1e2", nil},
		{kindInt, "1E2", nil},
		{kindInt, "0x10", nil},
		{kindInt, "1_000", nil},
		{kindInt, "2.5", nil},
		{kindFloat, "2.5", 2.5},
		{kindFloat, "2,5", 2.5},
		{kindFloat, ".5", 0.5},
		{kindFloat, "-3", -3.0},
		{kindFloat, "1e2", nil},
		{kindFloat, "0x1p3", nil},
		{kindFloat, "inf", nil},
		{kindFloat, "NaN", nil},
		{kindFloat, "", nil},
	}
	for _, tt := range tests {
		f := &fieldSpec{kind: tt.kind}
		got, err := f.parseValue(tt.in)
		if tt.want == nil && err == nil {
			t.Errorf("kind %d: parseValue(%q) = %v, want an error", tt.kind, tt.in, got)
		}
		if tt.want != nil && (err != nil || got != tt.want) {
			t.Errorf("kind %d: parseValue(%q) = %v, %v, want %v", tt.kind, tt.in, got, err, tt.want)
		}
	}
	f := &fieldSpec{kind: kindInt}
	if _, err := f.parseValue("100000000000000000000000"); err != errTooLarge {
		t.Errorf("a 24-digit int: error %v, want errTooLarge", err)
	}
}
