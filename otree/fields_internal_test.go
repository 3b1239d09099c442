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
