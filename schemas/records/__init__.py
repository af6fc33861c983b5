"""Service records, after the national basic public health service forms
(国家基本公共卫生服务规范, 3rd edition): building blocks (`fields`), the forms (`checkup`;
the follow-ups in `chronic`, `children`, `maternal`, `elderly`, `mental`, `tuberculosis`,
gathered by population in `followups`; `services`), the kind registry and validation
engine (`registry`), and what the API takes and answers around them (`envelopes`)."""
