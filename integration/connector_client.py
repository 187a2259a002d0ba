#!/usr/bin/env python3
"""A clinic system in another language, joining the region through the connector's HTTP API.

Python 3 standard library only (urllib, json): it proves that a system written in any language needs nothing from
us but HTTP (issue 18). Used by integration/connector.int.test.ts and scripts/connector-check.ts; docs/connector.md
shows the same calls with curl.

    python3 connector_client.py answer-one --url URL --token-file F [--after CURSOR] [--timeout S]
        wait for a consult request to one of the clinic's experts, read it, accept it, send a signed report
    python3 connector_client.py ask --url URL --token-file F --csv experts.csv --from ID --expert-name NAME [--timeout S]
        publish the clinic's experts, find the expert by name in the regional directory, send her a consult,
        wait for her signed report and check who signed it

Each prints one JSON line with what it did (ids and states, no patient data), and exits 1 with the reason otherwise.
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class ConnectorError(Exception):
    pass


class Connector:
    def __init__(self, url, token):
        self.url = url.rstrip('/')
        self.token = token

    def call(self, method, path, body=None, query=None, headers=None, timeout=90):
        url = self.url + path + ('?' + urllib.parse.urlencode(query) if query else '')
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header('Authorization', 'Bearer ' + self.token)
        if data is not None:
            request.add_header('Content-Type', 'application/json')
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode('utf-8'))
        except urllib.error.HTTPError as error:
            problem = error.read().decode('utf-8', 'replace')
            try:
                problem = json.loads(problem).get('detail', problem)
            except ValueError:
                pass
            raise ConnectorError('%s %s: %s %s' % (method, path, error.code, problem))

    def state(self):
        return self.call('GET', '/v1/state')

    def publish_csv(self, csv_text, mode='full', key=None):
        return self.call('POST', '/v1/directory/publications', {'mode': mode, 'csv': csv_text}, headers={'Idempotency-Key': key} if key else None)

    def publication(self, publication_id):
        return self.call('GET', '/v1/directory/publications/' + publication_id)

    def search(self, text, limit=20):
        return self.call('GET', '/v1/directory/experts', query={'text': text, 'limit': limit})

    def create_consult(self, sender, expert, resources, priority='routine', key=None):
        body = {'from': sender, 'to': expert, 'priority': priority, 'resources': resources}
        return self.call('POST', '/v1/consults', body, headers={'Idempotency-Key': key} if key else None)

    def consult(self, case_id):
        return self.call('GET', '/v1/consults/' + case_id)

    def act(self, case_id, action, note=None):
        body = {'action': action}
        if note:
            body['note'] = note
        return self.call('POST', '/v1/consults/%s/actions' % case_id, body)

    def report(self, case_id, resources):
        """The signed report from FHIR resources: a DiagnosticReport, an Observation of findings, MedicationRequests."""
        return self.call('POST', '/v1/consults/%s/report' % case_id, {'resources': resources})

    def events(self, after, wait=20):
        return self.call('GET', '/v1/events', query={'after': after, 'wait': wait, 'limit': 100}, timeout=wait + 30)


def until(probe, what, timeout):
    deadline = time.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.time() > deadline:
            raise ConnectorError('timed out waiting for ' + what)
        time.sleep(0.2)


def follow(connector, after, wanted, what, timeout):
    """Reads the event feed from `after` until an event satisfies `wanted`; returns (event, next cursor)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        page = connector.events(after, wait=min(20, max(1, int(deadline - time.time()))))
        for event in page['events']:
            after = event['cursor']
            if wanted(event):
                return event, after
        after = page['next']
    raise ConnectorError('timed out waiting for ' + what)


def answer_one(connector, args):
    event, cursor = follow(connector, args.after,
                           lambda e: e['type'] == 'consult.received' and e.get('messageType') == 'consult.request',
                           'a consult request', args.timeout)
    case_id = event['caseId']
    case = connector.consult(case_id)
    request = case['messages'][0]
    if request.get('state') != 'verified' or 'signer' not in request:
        raise ConnectorError('the request was not verified: %s' % json.dumps(request))
    connector.act(case_id, 'accept')
    reported = connector.report(case_id, [
        {'resourceType': 'DiagnosticReport', 'status': 'final', 'code': {'text': 'Teleconsultation report'},
         'conclusion': 'Paroxysmal atrial fibrillation. Start rate control; anticoagulation after echocardiography.',
         'conclusionCode': [{'coding': [{'system': 'http://hl7.org/fhir/sid/icd-10', 'code': 'I48.0', 'display': 'Paroxysmal atrial fibrillation'}]}]},
        {'resourceType': 'Observation', 'status': 'final', 'code': {'text': 'Findings'},
         'valueString': 'Irregularly irregular rhythm at 131/min in the data sent.'},
        {'resourceType': 'MedicationRequest', 'status': 'active', 'intent': 'order', 'medicationCodeableConcept': {'text': 'Metoprolol'},
         'dosageInstruction': [{'text': 'Morning dose', 'route': {'text': 'oral'}, 'timing': {'repeat': {'frequency': 1, 'period': 1, 'periodUnit': 'd'}},
                                'doseAndRate': [{'doseQuantity': {'value': 50, 'unit': 'mg'}}]}]},
    ])
    print(json.dumps({'answered': case_id, 'from': case['applicantId'], 'expert': case['expertId'],
                      'signedBy': request['signer'].get('practitionerId'), 'status': reported['status'], 'cursor': cursor}))


def ask(connector, args):
    with open(args.csv, encoding='utf-8') as handle:
        publication = connector.publish_csv(handle.read(), key='check-' + args.csv)
    publication = until(lambda: (lambda p: p if p['state'] in ('accepted', 'rejected', 'failed') else None)(
        connector.publication(publication['publicationId'])), 'the hub to answer the publication', args.timeout)
    if publication['state'] != 'accepted':
        raise ConnectorError('the publication was %s: %s %s' % (publication['state'], publication.get('reason'), publication.get('detail')))
    experts = until(lambda: connector.search(args.expert_name), 'the expert in the directory', args.timeout)
    expert = experts[0]['practitionerId']
    start = connector.state()['events']['last']
    today = time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime())
    resources = [
        {'resourceType': 'Patient', 'name': [{'family': 'Nordmann', 'given': ['Kari']}], 'gender': 'female', 'birthDate': '1961-04-12'},
        {'resourceType': 'ServiceRequest', 'status': 'active', 'intent': 'order', 'priority': 'urgent',
         'reasonCode': [{'text': 'Chest pain on exertion for two weeks'}], 'note': [{'text': 'Is this angina? Please advise on treatment.'}]},
        {'resourceType': 'Observation', 'status': 'final', 'code': {'coding': [{'system': 'http://loinc.org', 'code': '8867-4', 'display': 'Heart rate'}]},
         'effectiveDateTime': today, 'valueQuantity': {'value': 88, 'unit': '/min', 'system': 'http://unitsofmeasure.org', 'code': '/min'}},
    ]
    sent = connector.create_consult(args.sender, expert, resources, priority='urgent', key='check-consult-' + args.csv)
    case_id = sent['caseId']
    event, _ = follow(connector, start, lambda e: e['type'] == 'consult.received' and e.get('caseId') == case_id
                      and e.get('messageType') == 'consult.report', 'the expert\'s report', args.timeout)
    case = connector.consult(case_id)
    report = case.get('report')
    if not report or not report.get('verified') or report['signer'].get('practitionerId') != expert:
        raise ConnectorError('the report is not signed by %s: %s' % (expert, json.dumps(report)))
    print(json.dumps({'publication': publication['publicationId'], 'entries': publication['entries'], 'expert': expert,
                      'case': case_id, 'status': case['status'], 'reportSignedBy': report['signer']['practitionerId'],
                      'signerName': report['signer'].get('name')}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('flow', choices=['answer-one', 'ask'])
    parser.add_argument('--url', required=True)
    parser.add_argument('--token-file', required=True)
    parser.add_argument('--after', type=int, default=0)
    parser.add_argument('--timeout', type=float, default=60)
    parser.add_argument('--csv')
    parser.add_argument('--from', dest='sender')
    parser.add_argument('--expert-name')
    args = parser.parse_args()
    with open(args.token_file, encoding='utf-8') as handle:
        connector = Connector(args.url, handle.read().strip())
    try:
        if args.flow == 'answer-one':
            answer_one(connector, args)
        else:
            if not (args.csv and args.sender and args.expert_name):
                parser.error('ask needs --csv, --from and --expert-name')
            ask(connector, args)
    except (ConnectorError, OSError) as error:
        print('connector-client: %s' % error, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
