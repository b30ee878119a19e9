import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface DashboardProps {
  readonly stateMachine: IStateMachine;
  /** The Powertools namespace and service the Lambdas emit under. @default 'Highwater' / 'highwater' */
  readonly metricsNamespace?: string;
  readonly serviceName?: string;
}

/** One CloudWatch dashboard: executions, their duration, and per-table rows synced and lag. */
export class HighwaterDashboard extends Construct {
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const sm = props.stateMachine;
    const ns = props.metricsNamespace ?? 'Highwater';
    const service = props.serviceName ?? 'highwater';
    const period = Duration.minutes(5);
    // SEARCH: one line per `table` dimension value, including tables synced on the fly that no YAML lists.
    const perTable = (metric: string, stat: string, label: string): MathExpression =>
      new MathExpression({
        expression: `SEARCH('{${ns},service,table} MetricName="${metric}" service="${service}"', '${stat}', ${period.toSeconds()})`,
        usingMetrics: {},
        label,
        period,
      });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'Executions',
            left: [sm.metricSucceeded({ period }), sm.metricFailed({ period })],
            width: 12,
          }),
          new GraphWidget({ title: 'Execution duration', left: [sm.metricTime({ period })], width: 12 }),
        ],
        [
          new GraphWidget({
            title: 'Rows synced per table',
            left: [perTable('RowsSynced', 'Sum', 'RowsSynced')],
            width: 12,
          }),
          new GraphWidget({
            title: 'Lag per table (s)',
            left: [perTable('LagSeconds', 'Maximum', 'LagSeconds')],
            width: 12,
          }),
        ],
      ],
    });
  }
}
