// Package k8s holds the Kubernetes manifests of README "Scaling out" and
// the test that checks them offline. It is a module of its own so the
// sandbox's module does not carry the Kubernetes API packages.
package k8s

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// decodeAll decodes every manifest in this folder strictly with the
// official API types: an unknown or misspelt field, a duplicate key, a
// wrong type or an unknown kind fails.
func decodeAll(t *testing.T) map[string]runtime.Object {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	ser := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string]runtime.Object{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, gvk, err := ser.Decode(b, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		out[gvk.Kind] = obj
	}
	return out
}

// TestManifests: the manifests decode, and they agree with each other and
// with the sandbox: readiness on /_admin/health, the Service selects the
// pods and targets their port, the Ingress reaches the Service and hashes
// on the variable the controller's map defines, the same map as the nginx
// configuration the scale-out test runs.
func TestManifests(t *testing.T) {
	objs := decodeAll(t)
	for _, kind := range []string{"Deployment", "Service", "Ingress", "ConfigMap", "Secret"} {
		if objs[kind] == nil {
			t.Fatalf("no %s among the manifests", kind)
		}
	}
	dep := objs["Deployment"].(*appsv1.Deployment)
	svc := objs["Service"].(*corev1.Service)
	ing := objs["Ingress"].(*networkingv1.Ingress)
	cm := objs["ConfigMap"].(*corev1.ConfigMap)

	pod := dep.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("containers: %d, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/_admin/health" || p.HTTPGet.Port.StrVal != "http" {
		t.Errorf("readiness probe: %+v, want GET /_admin/health on port http", p)
	}
	if p := c.LivenessProbe; p != nil && p.HTTPGet != nil && p.HTTPGet.Path == "/_admin/health" {
		t.Error("liveness on /_admin/health would restart a draining replica (it answers 503)")
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 4000 {
		t.Errorf("ports: %+v, want http 4000", c.Ports)
	}
	for _, want := range []string{"serve", "--addr=0.0.0.0:4000", "--public-url=https://spine-sandbox.example.org"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args %q lack %q", c.Args, want)
		}
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources: %+v, want cpu and memory requests and a memory limit", c.Resources)
	}
	if dep.Spec.Template.Spec.TerminationGracePeriodSeconds == nil || *dep.Spec.Template.Spec.TerminationGracePeriodSeconds <= 35 {
		t.Error("terminationGracePeriodSeconds must exceed --shutdown-grace (30s) plus the preStop pause (5s)")
	}
	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, the pods are labelled %v", k, v, pod.Labels)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.StrVal != "http" {
		t.Errorf("service ports: %+v, want one targeting port http", svc.Spec.Ports)
	}
	backend := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
	if backend == nil || backend.Name != svc.Name || backend.Port.Name != svc.Spec.Ports[0].Name {
		t.Errorf("ingress backend: %+v, want service %s port %s", backend, svc.Name, svc.Spec.Ports[0].Name)
	}
	hashBy := ing.Annotations["nginx.ingress.kubernetes.io/upstream-hash-by"]
	if hashBy != "$spine_session" {
		t.Errorf("upstream-hash-by: %q, want $spine_session", hashBy)
	}
	snippet := cm.Data["http-snippet"]
	if !strings.Contains(snippet, "map $uri "+hashBy+" {") {
		t.Errorf("the controller's http-snippet does not define %s:\n%s", hashBy, snippet)
	}
	conf, err := os.ReadFile("../nginx/spine-sandbox.conf")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mapBlock(snippet), mapBlock(string(conf)); got == "" || got != want {
		t.Errorf("the controller's map is not deploy/nginx's:\n%s\nvs\n%s", got, want)
	}
}

// mapBlock is the `map $uri $spine_session { … }` block of an nginx
// configuration, whitespace collapsed.
func mapBlock(conf string) string {
	m := regexp.MustCompile(`(?s)map \$uri \$spine_session \{.*?\n\s*\}`).FindString(conf)
	return strings.Join(strings.Fields(m), " ")
}
