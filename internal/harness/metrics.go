package harness

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Sample is one sample of a Prometheus text exposition: its name, its
// labels as written ({a="b",...}, or empty) and its value.
type Sample struct {
	Name, Labels string
	Value        float64
}

// Metrics are the samples a metrics endpoint served.
type Metrics []Sample

// ScrapeMetrics reads a Prometheus text endpoint, such as the manager's /metrics.
func ScrapeMetrics(url string) (Metrics, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var m Metrics
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[cut+1:], 64)
		if err != nil {
			continue
		}
		name, labels := line[:cut], ""
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name, labels = name[:i], name[i:]
		}
		m = append(m, Sample{Name: name, Labels: labels, Value: v})
	}
	return m, sc.Err()
}

// Sum adds the samples of name whose labels contain every one of labels
// (each written as key="value").
func (m Metrics) Sum(name string, labels ...string) float64 {
	total := 0.0
	for _, s := range m {
		if s.Name != name {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(s.Labels, l)
		}
		if all {
			total += s.Value
		}
	}
	return total
}

// By adds the samples of name by the value of their label key (samples
// without it under "").
func (m Metrics) By(name, key string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range m {
		if s.Name == name {
			out[LabelValue(s.Labels, key)] += s.Value
		}
	}
	return out
}

// LabelValue is the value of label key in labels written as
// {a="b",...}, or "".
func LabelValue(labels, key string) string {
	i := strings.Index(labels, key+`="`)
	for i > 0 && labels[i-1] != '{' && labels[i-1] != ',' {
		next := strings.Index(labels[i+1:], key+`="`)
		if next < 0 {
			return ""
		}
		i += 1 + next
	}
	if i < 0 {
		return ""
	}
	rest := labels[i+len(key)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// Memory is what /proc/<pid>/status says about a process's memory, in bytes.
type Memory struct {
	PeakRSS int64 `json:"peakRSSBytes"` // VmHWM
	RSS     int64 `json:"rssBytes"`     // VmRSS
}

// ProcessMemory reads the peak and current resident set size of pid.
func ProcessMemory(pid int) (Memory, error) {
	var m Memory
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmHWM":
			m.PeakRSS = kb << 10
		case "VmRSS":
			m.RSS = kb << 10
		}
	}
	if m.PeakRSS == 0 {
		return m, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
	}
	return m, nil
}
