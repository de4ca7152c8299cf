// Package cleanup is `netverify cleanup`: delete what killed runs left behind.
package cleanup

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/results"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// NewCommand returns `netverify cleanup`.
func NewCommand(streams kube.Streams, kf *kube.Flags) *cobra.Command {
	var (
		dryRun    bool
		olderThan time.Duration
		runID     string
		wait      bool
	)
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete the namespaces of netverify runs that are no longer alive",
		Long: `Cleanup deletes the namespaces that runs created (label netverify.io/run-id)
and whose heartbeat (refreshed every 30s while a run is alive) is older than
--older-than, with the ClusterNetworkPolicies such runs created and the
probe pods they left in existing namespaces (in-place checks: their owner
ConfigMap netverify-<run id> and the pods labelled with the run id). It never touches a live run's objects nor a deploy/
installation (which carries no run id). --run-id deletes one run's
namespaces whatever their age (e.g. after "` + cliname.Placeholder + ` run --keep").`,
		Example: `  # what would be deleted, then delete it
  ` + cliname.Placeholder + ` cleanup --dry-run
  ` + cliname.Placeholder + ` cleanup

  # remove one run's namespaces now (the run id is the label
  # netverify.io/run-id of its namespaces, and part of their names)
  ` + cliname.Placeholder + ` cleanup --run-id k3x9qa

  # be more patient with runs that may still be alive
  ` + cliname.Placeholder + ` cleanup --older-than 30m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if olderThan < time.Minute && runID == "" {
				return &kube.ExitError{Code: results.ExitError, Err: fmt.Errorf("--older-than %s is shorter than a live run's heartbeat interval allows (min 1m)", olderThan)}
			}
			clients, err := kf.Connect(ctx)
			if err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			left, err := orchestrator.FindLeftovers(ctx, clients.Clientset, olderThan, runID, time.Now())
			if err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			var liveIDs []string
			if runID == "" {
				live, err := orchestrator.FindLiveRuns(ctx, clients.Clientset, olderThan, time.Now())
				if err != nil {
					return &kube.ExitError{Code: results.ExitError, Err: err}
				}
				printLive(streams.ErrOut, live, olderThan, cliname.Command(cmd, "cleanup"))
				for _, r := range live {
					liveIDs = append(liveIDs, r.RunID)
				}
			}
			// a run's ClusterNetworkPolicies are confined to its namespaces;
			// those of a run that is not alive go with them
			var cnps []orchestrator.LeftoverClusterPolicy
			if clients.Policies != nil {
				if served, err := kube.ServesClusterNetworkPolicies(clients.Clientset); err != nil {
					return &kube.ExitError{Code: results.ExitError, Err: err}
				} else if served {
					cnps, err = orchestrator.FindLeftoverClusterPolicies(ctx, clients.Policies, runID, liveIDs)
					switch {
					case apierrors.IsForbidden(err):
						// a role without it never let a run create any
						fmt.Fprintf(streams.ErrOut, "warning: not looking for ClusterNetworkPolicies of killed runs: %v\n", err)
					case err != nil:
						return &kube.ExitError{Code: results.ExitError, Err: err}
					}
				}
			}
			// probe pods of in-place checks, in existing namespaces
			owners, err := orchestrator.FindLeftoverOwners(ctx, clients.Clientset, olderThan, runID, time.Now())
			switch {
			case apierrors.IsForbidden(err):
				fmt.Fprintf(streams.ErrOut, "warning: not looking for probe pods of killed runs in existing namespaces: %v\n", err)
			case err != nil:
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			if len(left) == 0 && len(cnps) == 0 && len(owners) == 0 {
				fmt.Fprintln(streams.ErrOut, "nothing to clean up")
				return nil
			}
			verb := "deleting"
			if dryRun {
				verb = "would delete"
			}
			var cnpNames []string
			for _, c := range cnps {
				fmt.Fprintf(streams.Out, "%s ClusterNetworkPolicy %s (run %s)\n", verb, c.Name, c.RunID)
				cnpNames = append(cnpNames, c.Name)
			}
			var names []string
			for _, l := range left {
				fmt.Fprintf(streams.Out, "%s namespace %s (run %s, last heartbeat %s ago)\n", verb, l.Namespace, l.RunID, l.Age.Round(time.Second))
				names = append(names, l.Namespace)
			}
			for _, o := range owners {
				fmt.Fprintf(streams.Out, "%s the probe pods of run %s in namespace %s, and their owner ConfigMap %s (last heartbeat %s ago)\n", verb, o.RunID, o.Namespace, o.Name, o.Age.Round(time.Second))
			}
			if dryRun {
				return nil
			}
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			for _, o := range owners {
				if err := orchestrator.DeleteLive(wctx, clients.Clientset, o.Namespace, orchestrator.LabelRunID+"="+o.RunID, wait); err != nil {
					return &kube.ExitError{Code: results.ExitError, Err: err}
				}
			}
			if err := orchestrator.DeleteClusterPolicies(wctx, clients.Policies, cnpNames); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			if err := orchestrator.DeleteNamespaces(wctx, clients.Clientset, names, wait); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print what would be deleted")
	cmd.Flags().DurationVar(&olderThan, "older-than", 3*time.Minute, "treat runs whose heartbeat is older than this as dead")
	cmd.Flags().StringVar(&runID, "run-id", "", "delete this run's namespaces and ClusterNetworkPolicies, whatever their age")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until the namespaces are gone")
	return cmd
}

// printLive says which runs cleanup considers alive and left alone, and how
// to remove one now if it was in fact killed; cleanup is the command line
// of cleanup as the user typed it ("netverify cleanup").
func printLive(w io.Writer, live []orchestrator.LiveRun, olderThan time.Duration, cleanup string) {
	for _, r := range live {
		fmt.Fprintf(w, "run %s looks alive (%d namespaces, last heartbeat %s ago, under --older-than %s): left alone; if it was killed, remove it now with: %s --run-id %s\n",
			r.RunID, r.Namespaces, r.Age.Round(time.Second), olderThan, cleanup, r.RunID)
	}
}
