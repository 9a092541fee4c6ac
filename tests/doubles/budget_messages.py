"""AWS Budgets alerts as AWS words them: plain text in the SNS Message, not JSON.

Modelled line for line on alerts AWS sent (a daily budget's, captured from a Lambda's SNS
event, and the monthly form); only names, amounts and dates are this project's.
"""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"


def monthly_alert(
    budget: str = "tl-fif-monthly",
    *,
    alert_type: str = "ACTUAL",
    budgeted: str = "$20.00",
    threshold: str = "$20.00",
    amount: str = "$20.41",
) -> str:
    return (
        "AWS Budget Notification November 23, 2025\n"
        f"AWS Account {ACCOUNT}\n"
        "\n"
        "Dear AWS Customer,\n"
        "\n"
        f"You requested that we alert you when the {alert_type} Cost associated with your "
        f"{budget} budget is greater than {threshold} for the current month. The {alert_type} "
        f"Cost associated with this budget is {amount}. You can find additional details below "
        "and by accessing the AWS Budgets dashboard [1].\n"
        "\n"
        f"Budget Name: {budget}\n"
        "Budget Type: Cost\n"
        f"Budgeted Amount: {budgeted}\n"
        f"Alert Type: {alert_type}\n"
        f"Alert Threshold: > {threshold}\n"
        f"{alert_type} Amount: {amount}\n"
        "\n"
        "[1] https://console.aws.amazon.com/billing/home#/budgets\n"
    )


def daily_alert() -> str:
    """The daily form: "per day. Yesterday, ..." instead of "for the current month"."""
    return (
        "AWS Budget Notification March 05, 2023\nAWS Account 123456789012\n\n"
        "Dear AWS Customer,\n\nYou requested that we alert you when the ACTUAL Cost "
        "associated with your killswitch budget is greater than $0.75 per day. Yesterday, "
        "the ACTUAL Cost associated with this budget is $1.70. You can find additional "
        "details below and by accessing the AWS Budgets dashboard [1].\n\n"
        "Budget Name: killswitch\nBudget Type: Cost\nBudgeted Amount: $5.00\n"
        "Alert Type: ACTUAL\nAlert Threshold: > $0.75\nACTUAL Amount: $1.70\n\n"
        "[1] https://console.aws.amazon.com/billing/home#/budgets\n"
    )


def sns_event(
    message: str, message_id: str = "0afa48ef-db9f-5b07-9359-149237adeae5"
) -> dict[str, Any]:
    """The event Lambda receives from an SNS subscription (one record, as SNS sends)."""
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:tl-fif-budget"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:00faa396-9322-4fde-b4fe-4a5b4f2ff521",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic,
                    "Subject": "AWS Budgets: tl-fif-monthly has exceeded your alert threshold",
                    "Message": message,
                    "Timestamp": "2025-11-23T01:01:38.638Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }
