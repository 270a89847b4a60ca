// The cost benchmark's baseline: the same solution monitored with cdk-monitoring-constructs.
// Usage: node cdk_app.js OUTDIR LAMBDAS STATE_MACHINES   (run with NODE_PATH=<dir>/node_modules)
// Alarms mirror mlmon's defaults: per Lambda fault count (Critical), throttles and p90 latency
// (Warning); per state machine failed, timed-out, aborted and throttled executions (Critical);
// one composite per severity (cdk-monitoring-constructs' disambiguator pattern), one SNS topic.
const cdk = require("aws-cdk-lib");
const lambda = require("aws-cdk-lib/aws-lambda");
const sfn = require("aws-cdk-lib/aws-stepfunctions");
const sns = require("aws-cdk-lib/aws-sns");
const { MonitoringFacade, SnsAlarmActionStrategy } = require("cdk-monitoring-constructs");

const [outdir, lambdas, machines] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const app = new cdk.App({ outdir, analyticsReporting: false });
const stack = new cdk.Stack(app, "Bench", { env: { account: "123456789012", region: "us-east-1" } });
const topic = new sns.Topic(stack, "Alerts");
const facade = new MonitoringFacade(stack, "Monitoring", {
  alarmFactoryDefaults: { actionsEnabled: true, alarmNamePrefix: "bench", action: new SnsAlarmActionStrategy({ onAlarmTopic: topic }) },
});
for (let i = 0; i < lambdas; i++) {
  facade.monitorLambdaFunction({
    lambdaFunction: lambda.Function.fromFunctionName(stack, `Fn${i}`, `fn-${i}`),
    addFaultCountAlarm: { Critical: { maxErrorCount: 0 } },
    addThrottlesCountAlarm: { Warning: { maxErrorCount: 0 } },
    addLatencyP90Alarm: { Warning: { maxLatency: cdk.Duration.seconds(48) } },
  });
}
for (let i = 0; i < machines; i++) {
  facade.monitorStepFunction({
    stateMachine: sfn.StateMachine.fromStateMachineName(stack, `Sm${i}`, `sm-${i}`),
    addFailedExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
    addTimedOutExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
    addAbortedExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
    addThrottledExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
  });
}
facade.createCompositeAlarmUsingDisambiguator("Critical");
facade.createCompositeAlarmUsingDisambiguator("Warning");
app.synth();
