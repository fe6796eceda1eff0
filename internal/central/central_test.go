package central

import (
	"strings"
	"testing"
)

const (
	goodBus   = "arn:aws:events:eu-west-1:210987654321:event-bus/dhmc-central"
	goodTopic = "arn:aws:sns:eu-central-1:210987654321:dhmc-central"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigAcceptsOnlyABusAndAStandardTopic(t *testing.T) {
	tests := []struct {
		name                   string
		vars                   map[string]string
		want                   Config
		wantErr                []string // substrings, one per problem
		busRegion, topicRegion string
	}{
		{name: "nothing set", vars: nil, want: Config{}},
		{name: "both", vars: map[string]string{EnvBusARN: goodBus, EnvTopicARN: goodTopic},
			want: Config{BusARN: goodBus, TopicARN: goodTopic}, busRegion: "eu-west-1", topicRegion: "eu-central-1"},
		{name: "bus only, spaces trimmed", vars: map[string]string{EnvBusARN: " " + goodBus + "\n"},
			want: Config{BusARN: goodBus}, busRegion: "eu-west-1"},
		{name: "another partition", vars: map[string]string{EnvBusARN: "arn:aws-us-gov:events:us-gov-west-1:210987654321:event-bus/x"},
			want: Config{BusARN: "arn:aws-us-gov:events:us-gov-west-1:210987654321:event-bus/x"}, busRegion: "us-gov-west-1"},
		{name: "the default bus of another account", vars: map[string]string{EnvBusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/default"},
			want: Config{BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/default"}, busRegion: "eu-west-1"},
		{name: "a bus name, not an ARN", vars: map[string]string{EnvBusARN: "dhmc-central"}, wantErr: []string{EnvBusARN}},
		{name: "a topic ARN as the bus", vars: map[string]string{EnvBusARN: goodTopic}, wantErr: []string{EnvBusARN}},
		{name: "a rule ARN as the bus", vars: map[string]string{EnvBusARN: "arn:aws:events:eu-west-1:210987654321:rule/dhmc-central/r"}, wantErr: []string{EnvBusARN}},
		{name: "an 11-digit account", vars: map[string]string{EnvBusARN: "arn:aws:events:eu-west-1:21098765432:event-bus/x"}, wantErr: []string{EnvBusARN}},
		{name: "a FIFO topic", vars: map[string]string{EnvTopicARN: goodTopic + ".fifo"}, wantErr: []string{"FIFO"}},
		{name: "a bus ARN as the topic", vars: map[string]string{EnvTopicARN: goodBus}, wantErr: []string{EnvTopicARN}},
		{name: "both wrong: both named", vars: map[string]string{EnvBusARN: "x", EnvTopicARN: "y"}, wantErr: []string{EnvBusARN, EnvTopicARN}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(env(tt.vars))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				if got != (Config{}) {
					t.Errorf("config %+v returned with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || got.BusRegion() != tt.busRegion || got.TopicRegion() != tt.topicRegion {
				t.Errorf("got %+v (bus in %q, topic in %q), want %+v (%q, %q)", got, got.BusRegion(), got.TopicRegion(), tt.want, tt.busRegion, tt.topicRegion)
			}
			if got.Enabled() != (tt.want != Config{}) {
				t.Errorf("Enabled = %v", got.Enabled())
			}
		})
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add(goodBus, goodTopic)
	f.Add("arn:aws:events:eu-west-1:210987654321:event-bus/a/b.c", "")
	f.Add("arn:aws:events::210987654321:event-bus/x", "arn:aws:sns:eu-west-1:1:x")
	f.Fuzz(func(t *testing.T, bus, topic string) {
		c, err := LoadConfig(env(map[string]string{EnvBusARN: bus, EnvTopicARN: topic}))
		if err != nil {
			return
		}
		if c.BusARN != "" && (c.BusRegion() == "" || !strings.HasPrefix(c.BusARN, "arn:")) {
			t.Errorf("accepted bus %q with Region %q", c.BusARN, c.BusRegion())
		}
		if c.TopicARN != "" && (c.TopicRegion() == "" || strings.HasSuffix(c.TopicARN, ".fifo")) {
			t.Errorf("accepted topic %q with Region %q", c.TopicARN, c.TopicRegion())
		}
	})
}
