package deploy

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netverify/netverify/internal/cli/cliname"
	"sigs.k8s.io/yaml"
)

const krewManifest = "krew/netverify.yaml"

// krewPlugin is the part of krew's Plugin (v1alpha2) the manifest uses;
// strict unmarshalling rejects any other field, so a misspelt one fails.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string         `json:"version"`
		Homepage         string         `json:"homepage"`
		ShortDescription string         `json:"shortDescription"`
		Description      string         `json:"description"`
		Caveats          string         `json:"caveats"`
		Platforms        []krewPlatform `json:"platforms"`
	} `json:"spec"`
}

type krewPlatform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string `json:"uri"`
	Sha256 string `json:"sha256"`
	Files  []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"files"`
	Bin string `json:"bin"`
}

func loadKrew(t *testing.T, data []byte) krewPlugin {
	t.Helper()
	var p krewPlugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("%s: %v", krewManifest, err)
	}
	return p
}

// The template has every field krew requires, a placeholder where the
// release pipeline fills one in, and one platform per OS and architecture.
func TestKrewManifestTemplate(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(krewManifest)
	if err != nil {
		t.Fatal(err)
	}
	p := loadKrew(t, data)
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" {
		t.Errorf("apiVersion %q kind %q", p.APIVersion, p.Kind)
	}
	if p.Metadata.Name != "netverify" {
		t.Errorf("name %q, want netverify", p.Metadata.Name)
	}
	if p.Spec.Version != "${VERSION}" {
		t.Errorf("version %q, want the placeholder ${VERSION}", p.Spec.Version)
	}
	if p.Spec.ShortDescription == "" || p.Spec.Description == "" || p.Spec.Homepage == "" {
		t.Errorf("shortDescription, description and homepage are required: %+v", p.Spec)
	}
	var platforms []string
	for _, pl := range p.Spec.Platforms {
		goos, arch := pl.Selector.MatchLabels["os"], pl.Selector.MatchLabels["arch"]
		name := goos + "/" + arch
		platforms = append(platforms, name)
		if len(pl.Selector.MatchLabels) != 2 {
			t.Errorf("%s: selector %v, want os and arch only", name, pl.Selector.MatchLabels)
		}
		if want := "${DOWNLOAD_URL}/kubectl-netverify_${VERSION}_" + goos + "_" + arch + ".tar.gz"; pl.URI != want {
			t.Errorf("%s: uri %q, want %q", name, pl.URI, want)
		}
		if want := "${SHA256_" + strings.ToUpper(goos) + "_" + strings.ToUpper(arch) + "}"; pl.Sha256 != want {
			t.Errorf("%s: sha256 %q, want the placeholder %q", name, pl.Sha256, want)
		}
		if pl.Bin != "kubectl-netverify" {
			t.Errorf("%s: bin %q, want kubectl-netverify", name, pl.Bin)
		}
		if len(pl.Files) != 1 || pl.Files[0].From != pl.Bin || pl.Files[0].To != "." {
			t.Errorf("%s: files %+v, want the binary only", name, pl.Files)
		}
		// the name under which netverify calls itself `kubectl netverify`
		if got := cliname.FromArgv0(pl.Bin).Display; got != "kubectl "+p.Metadata.Name {
			t.Errorf("%s: bin %q runs as %q, not as the plugin %q", name, pl.Bin, got, "kubectl "+p.Metadata.Name)
		}
	}
	slices.Sort(platforms)
	if want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"}; !slices.Equal(platforms, want) {
		t.Errorf("platforms %v, want %v", platforms, want)
	}
}

// Filled in as its header says, the template is a manifest krew accepts:
// a semantic version, https URIs, SHA-256 digests, no placeholder left.
func TestKrewManifestFilled(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(krewManifest)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{
		"VERSION":             "v1.2.3",
		"DOWNLOAD_URL":        "https://example.com/netverify/releases/v1.2.3",
		"SHA256_LINUX_AMD64":  strings.Repeat("a", 64),
		"SHA256_LINUX_ARM64":  strings.Repeat("b", 64),
		"SHA256_DARWIN_AMD64": strings.Repeat("c", 64),
		"SHA256_DARWIN_ARM64": strings.Repeat("d", 64),
	}
	var unknown []string
	filled := os.Expand(string(data), func(name string) string {
		v, ok := values[name]
		if !ok {
			unknown = append(unknown, name)
		}
		return v
	})
	if len(unknown) > 0 {
		t.Errorf("placeholders the header does not document: %v", unknown)
	}
	p := loadKrew(t, []byte(filled))
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(p.Spec.Version) {
		t.Errorf("version %q", p.Spec.Version)
	}
	seen := map[string]bool{}
	for _, pl := range p.Spec.Platforms {
		if !strings.HasPrefix(pl.URI, "https://") || !strings.HasSuffix(pl.URI, "_"+pl.Selector.MatchLabels["os"]+"_"+pl.Selector.MatchLabels["arch"]+".tar.gz") {
			t.Errorf("uri %q", pl.URI)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(pl.Sha256) || seen[pl.Sha256] {
			t.Errorf("sha256 %q: not a digest, or another platform's", pl.Sha256)
		}
		seen[pl.Sha256] = true
	}
	if strings.Contains(filled, "${") {
		t.Errorf("a placeholder is left:\n%s", filled)
	}
}
