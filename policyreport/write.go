package policyreport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/netverify/netverify/results"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// Write writes rep's reports (see Build) in every format of opts the cluster
// serves, and returns what it wrote ("openreports.io/v1alpha1 Report
// prod/netverify", created or updated) and warnings for a person to read.
//
// The options and rep are checked before any API call; a bad one is the only
// error returned before anything is written. A format is written only when
// discovery shows its resource served. A format the cluster does not serve
// is a warning when it was asked for in Options.Formats; with the default
// (all formats) only when none is served. Forbidden (for discovery, create,
// get or update) is a warning naming the verb and resource, never an error.
// An existing object of the same name is updated (its resourceVersion kept;
// a Conflict re-reads and retries), unless it is not labelled
// app.kubernetes.io/managed-by=netverify: then it is left alone, with a
// warning. Other failures are returned together (errors.Join) after every
// other object was tried; written still lists what succeeded.
//
// It needs get, create and update on the report resources in the namespaces
// the run checked in place.
func Write(ctx context.Context, dyn dynamic.Interface, disc discovery.DiscoveryInterface, rep *results.Report, opts Options) (written, warnings []string, err error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	formats, explicit := opts.formats()
	built := map[Format][]*unstructured.Unstructured{}
	for _, f := range formats {
		objs, err := Build(rep, f, opts)
		if err != nil {
			return nil, nil, err
		}
		built[f] = objs
	}
	if len(Namespaces(rep)) == 0 {
		return nil, nil, nil // nothing was checked in place: nothing to report
	}
	var errs []error
	var notServed []string
	for _, f := range formats {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		served, warning, err := isServed(disc, f)
		switch {
		case err != nil:
			errs = append(errs, err)
			continue
		case warning != "":
			warnings = append(warnings, warning)
			continue
		case !served:
			notServed = append(notServed, resourceName(f))
			if explicit {
				warnings = append(warnings, fmt.Sprintf("%s reports not written: the cluster does not serve %s (is its CRD installed?)", f.Kind(), resourceName(f)))
			}
			continue
		}
		for _, obj := range built[f] {
			what, warning, err := writeOne(ctx, dyn, f, obj)
			switch {
			case err != nil:
				errs = append(errs, err)
			case warning != "":
				warnings = append(warnings, warning)
			default:
				written = append(written, what)
			}
		}
	}
	if !explicit && len(notServed) == len(formats) {
		warnings = append(warnings, fmt.Sprintf("no policy reports written: the cluster serves none of %s (install the OpenReports CRDs, or a PolicyReport CRD such as Kyverno's)", strings.Join(notServed, ", ")))
	}
	return written, warnings, errors.Join(errs...)
}

// resourceName renders a format's resource the way kubectl names it:
// "reports.openreports.io/v1alpha1".
func resourceName(f Format) string {
	gvr := f.GroupVersionResource()
	return gvr.Resource + "." + gvr.Group + "/" + gvr.Version
}

// isServed asks discovery whether the cluster serves f's resource. A
// forbidden discovery call is a warning; a group version the server does not
// know is simply not served.
func isServed(disc discovery.DiscoveryInterface, f Format) (served bool, warning string, err error) {
	gvr := f.GroupVersionResource()
	list, err := disc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	switch {
	case apierrors.IsNotFound(err):
		return false, "", nil
	case apierrors.IsForbidden(err):
		return false, fmt.Sprintf("%s reports not written: forbidden to discover %s (%v)", f.Kind(), gvr.GroupVersion(), err), nil
	case err != nil:
		return false, "", fmt.Errorf("discovering %s: %w", gvr.GroupVersion(), err)
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource {
			return true, "", nil
		}
	}
	return false, "", nil
}

// writeOne creates obj, or updates the object of its name when it exists and
// netverify manages it. It returns what it wrote, or a warning (forbidden, or
// an object netverify does not manage), or an error.
func writeOne(ctx context.Context, dyn dynamic.Interface, f Format, obj *unstructured.Unstructured) (what, warning string, err error) {
	gvr := f.GroupVersionResource()
	ns, name := obj.GetNamespace(), obj.GetName()
	what = fmt.Sprintf("%s %s %s/%s", gvr.GroupVersion(), f.Kind(), ns, name)
	forbidden := func(verb string, err error) string {
		return fmt.Sprintf("%s not written: forbidden to %s %s.%s in namespace %s (netverify needs get, create and update on it): %v",
			what, verb, gvr.Resource, gvr.Group, ns, err)
	}
	ri := dyn.Resource(gvr).Namespace(ns)
	_, err = ri.Create(ctx, obj, metav1.CreateOptions{})
	switch {
	case err == nil:
		return what, "", nil
	case apierrors.IsForbidden(err):
		return "", forbidden("create", err), nil
	case !apierrors.IsAlreadyExists(err):
		return "", "", fmt.Errorf("creating %s: %w", what, err)
	}
	verb, foreign := "", false
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		verb = "get"
		cur, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.GetLabels()[LabelManagedBy] != ManagedBy {
			foreign = true
			return nil
		}
		next := obj.DeepCopy()
		next.SetResourceVersion(cur.GetResourceVersion())
		// Keep what others added to the metadata; ours wins on conflict.
		labels := maps.Clone(cur.GetLabels())
		maps.Copy(labels, obj.GetLabels())
		next.SetLabels(labels)
		next.SetAnnotations(cur.GetAnnotations())
		verb = "update"
		_, err = ri.Update(ctx, next, metav1.UpdateOptions{})
		return err
	})
	switch {
	case apierrors.IsForbidden(err):
		return "", forbidden(verb, err), nil
	case err != nil:
		return "", "", fmt.Errorf("updating %s (%s): %w", what, verb, err)
	case foreign:
		return "", fmt.Sprintf("%s not written: an object of that name exists without label %s=%s; left alone (choose another name)", what, LabelManagedBy, ManagedBy), nil
	}
	return what, "", nil
}
