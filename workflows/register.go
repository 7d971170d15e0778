package workflows

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"
)

func workflowRegisterOptions() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: LifecycleWorkflow}
}

func activityRegisterOptions(name string) activity.RegisterOptions {
	return activity.RegisterOptions{Name: name}
}
