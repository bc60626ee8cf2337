/**
 * Every piece of UI text, in English and Korean, and the locale-aware formatters.
 * The locale is picked from navigator.languages, can be switched, and is remembered in localStorage.
 */

const en = {
  'app.tagline': 'Parse documents into text, layout, tables and markdown.',
  'app.skip': 'Skip to content',
  'nav.label': 'Main',
  'nav.upload': 'New upload',
  'nav.history': 'History',
  'lang.label': 'Language',

  'upload.heading': 'Upload documents',
  'upload.drop': 'Drop files here',
  'upload.or': 'or',
  'upload.choose': 'Choose files',
  'upload.hint':
    'PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, TXT or images · up to {size} per file · at most {pages, plural, one {# page} other {# pages}}',
  'upload.password': 'Password',
  'upload.password_hint': 'Only for password-protected PDFs.',
  'upload.pages': 'Pages',
  'upload.pages_hint': 'For example 1-3,7. Leave empty for all pages.',
  'upload.pages_invalid': 'Write pages like 1-3,7 (numbers from 1, ranges with a dash, separated by commas).',
  'upload.options': 'Also extract',
  'upload.option.tables': 'Tables (slower)',
  'upload.option.markdown': 'Markdown (slower)',
  'upload.ocr': 'Text recognition (OCR)',
  'upload.ocr.auto': 'Pages without text (scans, photos)',
  'upload.ocr.always': 'Every page',
  'upload.ocr.never': 'Never',
  'upload.ocr_hint': 'Scans and photos have no text to extract: OCR reads the letters in the picture, a few seconds a page.',
  'upload.ocr_unavailable': 'OCR is not installed on this server: pages without text come back empty, with a note.',
  'upload.ocr_languages': 'OCR languages',
  'upload.ocr_languages_hint': 'Joined with +, e.g. kor+eng. Installed here: {languages}. Empty: the default.',
  'upload.ocr_languages_format': 'Joined with +, e.g. kor+eng. Empty: the default.',
  'upload.ocr_languages_invalid': 'Write languages like kor+eng, from those installed here: {languages}.',
  'upload.advanced': 'Advanced',
  'upload.advanced_on': 'Advanced ({n, plural, one {# setting} other {# settings}} on)',
  'upload.reuse_off': 'Parse again even if this file was parsed before',
  'upload.reuse_hint': 'Otherwise a file you uploaded before with the same options gets a copy of that result at once.',
  'upload.callback': 'Callback URL (webhook)',
  'upload.callback_hint':
    'When the job ends, the server sends its status to this address (a signed POST). The server must have webhooks set up.',
  'upload.callback_invalid': 'Write a full address starting with http:// or https://.',
  'upload.submit': 'Upload',
  'upload.files': 'Files to upload',
  'upload.state.checking': 'Checking…',
  'upload.state.ready': 'Ready to upload',
  'upload.state.uploading': 'Uploading… {percent}%',
  'upload.state.done': 'Uploaded',
  'upload.state.rejected': 'Not uploaded',
  'upload.state.error': 'Upload failed',
  'upload.progress': 'Upload progress of {name}',
  'upload.remove': 'Remove',
  'upload.again': 'Upload again',
  'upload.reject.type':
    'This file type is not supported. Choose a PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, text file or an image.',
  'upload.reject.empty': 'The file is empty.',
  'upload.reject.size': 'The file is {size}; this server accepts files up to {max}.',

  'jobs.heading': 'Jobs',
  'jobs.empty': 'Documents you upload appear here with their progress.',
  'jobs.gone': 'This job no longer exists. It may have expired or been deleted.',

  'status.queued': 'Queued',
  'status.processing': 'Processing',
  'status.completed': 'Completed',
  'status.failed': 'Failed',
  'status.cancelled': 'Cancelled',

  'job.progress': 'Parsing progress of {name}',
  'job.pages': '{done}/{total, plural, one {# page} other {# pages}}',
  'job.pages_unknown': '{done, plural, one {# page} other {# pages}}',
  'job.chunks': '{running} of {total} parts in parallel',
  'job.eta': 'about {time} left',
  'job.eta_soon': 'almost done',
  'job.queue_position': '{position, plural, one {# job} other {# jobs}} ahead in the queue',
  'job.queue_next': 'Next in the queue',
  'job.waiting': 'Waiting for a worker',
  'job.starting': 'Opening the document…',
  'job.done': 'Parsed {total, plural, one {# page} other {# pages}} in {time}',
  'job.done_fast': 'Parsed {total, plural, one {# page} other {# pages}} in under a second',
  'job.done_short': 'Parsed {total, plural, one {# page} other {# pages}}',
  'job.partial': '{done} of {total, plural, one {# page was} other {# pages were}} parsed before it stopped.',
  'job.failed_pages': '{count, plural, one {Page} other {Pages}} that could not be parsed: {pages}',
  'job.attempt': 'Attempt {n}',
  'job.created': 'Uploaded {date}',
  'job.expires': 'Kept until {date}',
  'job.cancel': 'Cancel',
  'job.retry': 'Retry',
  'job.delete': 'Delete',
  'job.delete_label': 'Delete {name}',
  'job.confirm_delete': 'Delete {name}?',
  'job.confirm_delete_body': 'Its file and result are removed from the server. This cannot be undone.',
  'job.confirm_delete_running':
    'It is still {status, select, queued {waiting in the queue} other {being parsed}}: deleting it stops it, and its file and the pages parsed so far are removed from the server. This cannot be undone.',
  'job.confirm_delete_yes': 'Delete',
  'job.confirm_cancel': 'Keep it',
  'job.open': 'Open',
  'job.view_result': 'View result',
  'job.password': 'Document password',
  'job.server_message': 'Server message: {message}',
  'job.new_pages': 'New page range',
  'job.upload_pages': 'Upload again with these pages',
  'job.upload_pages_home': 'Upload the file again with a page range within the document',
  'job.reupload': 'Upload the file again',
  'job.reused': 'Result reused from {link} (parsed {time}).',
  'job.reused_untimed': 'Result reused from {link}.',
  'job.reused_link': 'an earlier upload of the same file',

  'error.encrypted': 'This PDF is password protected — enter the password and retry.',
  'error.encrypted.action': 'The password is sent only with this retry.',
  'error.wrong_password': 'The password is wrong — enter the correct password and retry.',
  'error.wrong_password.action': 'Passwords are case sensitive.',
  'error.corrupt': 'The file is damaged and could not be read.',
  'error.corrupt.action': 'Open it in another program, save or export it again (for example as PDF) and upload the new file.',
  'error.page_timeout': 'A page took too long to parse and was stopped.',
  'error.page_timeout.action': 'Retry, or upload the file again with a page range that skips the slow page.',
  'error.timeout': 'The document took longer to parse than this server allows.',
  'error.timeout.action': 'Upload it again with a smaller page range, or ask the administrator to raise the time limit.',
  'error.worker_lost': 'The worker parsing this document stopped unexpectedly.',
  'error.worker_lost.action': 'Retry — it usually works the second time.',
  'error.cancelled': 'The job was cancelled.',
  'error.cancelled.action': 'Retry to parse the document again.',
  'error.too_many_pages': 'The document has more pages than this server accepts.',
  'error.too_many_pages.action':
    'This server opens documents of at most {max, plural, one {# page} other {# pages}}, whatever the page range: split the document, or ask the administrator to raise the limit.',
  'error.memory_limit': 'The document needed more memory than this server allows.',
  'error.memory_limit.action': 'Trying again would fail the same way: export the document again (for example with smaller pictures), or ask the administrator.',
  'error.invalid_request': 'The request could not be carried out.',
  'error.invalid_request.action': 'Upload the file again with corrected settings.',
  'error.invalid_pages': 'The page range does not fit this document.',
  'error.invalid_pages.action': 'Choose pages within the document and upload it again.',
  'error.unsupported_type': 'This file type is not supported.',
  'error.unsupported_type.action': 'Convert it to PDF or another supported type and upload that file.',
  'error.internal': 'Something went wrong inside docparse.',
  'error.internal.action': 'Retry; if it keeps failing, tell the administrator.',
  'error.unknown': 'Parsing failed.',
  'error.unknown.action': 'Retry, or upload the file again.',

  'problem.network': 'Cannot reach the server. Check the connection and try again.',
  'problem.aborted': 'The request was cancelled.',
  'problem.unknown': 'Something went wrong.',
  'problem.unauthorized': 'This server needs a valid API key.',
  'problem.not_found': 'Not found.',
  'problem.file_too_large': 'The file is larger than this server accepts.',
  'problem.unsupported_type': 'This file type is not supported.',
  'problem.empty_file': 'The uploaded file is empty.',
  'problem.invalid_request': 'The request is not valid.',
  'problem.too_many_requests': 'Too many requests at once. Wait a moment and try again.',
  'problem.server': 'The server had a problem (HTTP {status}). Try again later.',
  'problem.http': 'The request failed (HTTP {status}).',
  'problem.retry_after': 'Try again in {seconds} s.',

  'time.under_second': 'under a second',

  'auth.title': 'API key required',
  'auth.body': 'This server asks for an API key. It is kept in this browser only.',
  'auth.rejected': 'That key was not accepted. Check it and try again.',
  'auth.key': 'API key',
  'auth.save': 'Save key',
  'auth.dismiss': 'Not now',
  'auth.forget': 'Forget API key',

  'history.heading': 'History',
  'history.filter': 'Status',
  'history.all': 'All',
  'history.refresh': 'Refresh',
  'history.more': 'Load more',
  'history.empty': 'No jobs yet.',
  'history.empty_filtered': 'No jobs with this status.',
  'history.loading': 'Loading…',
  'history.deleted': '{name} was deleted.',

  'viewer.heading': 'Result',
  'viewer.partial': 'The job is not complete: showing the pages parsed so far.',
  'viewer.not_ready': 'The result is not available yet.',
  'viewer.document': 'Document',
  'viewer.meta.title': 'Title',
  'viewer.meta.author': 'Author',
  'viewer.meta.subject': 'Subject',
  'viewer.meta.keywords': 'Keywords',
  'viewer.meta.creator': 'Creator',
  'viewer.meta.producer': 'Producer',
  'viewer.meta.creation_date': 'Created',
  'viewer.meta.modification_date': 'Modified',
  'viewer.meta.file_type': 'Type',
  'viewer.meta.size': 'Size',
  'viewer.meta.page_count': 'Pages',
  'viewer.meta.encrypted': 'Encrypted',
  'viewer.meta.sha256': 'SHA-256',
  'viewer.yes': 'Yes',
  'viewer.no': 'No',
  'viewer.outline': 'Outline',
  'viewer.details_outline': 'Document details and outline',
  'viewer.outline_empty': 'This document has no outline.',
  'viewer.downloads': 'Download',
  'viewer.download.json': 'JSON',
  'viewer.download.markdown': 'Markdown',
  'viewer.download.text': 'Text',
  'viewer.download_label': 'Download the result as {format}',
  'viewer.markdown_not_asked': 'Markdown was not asked for at upload: the Markdown download holds the plain text.',
  'viewer.pages': 'Pages',
  'viewer.goto': 'Go to page',
  'viewer.go': 'Go',
  'viewer.boxes': 'Boxes',
  'viewer.kind.blocks': 'Blocks',
  'viewer.kind.links': 'Links',
  'viewer.kind.images': 'Images',
  'viewer.kind.tables': 'Tables',
  'viewer.page': 'Page {n}',
  'viewer.page_loading': 'Loading page {n}…',
  'viewer.page_pending': 'This page is not parsed yet.',
  'viewer.page_missing': 'This page was not parsed.',
  'viewer.page_failed': 'This page could not be parsed.',
  'viewer.page_error': 'The page could not be loaded: {message}',
  'viewer.page_image': 'Page {n} as rendered',
  'viewer.overlay': 'Parsed regions of page {n}',
  'viewer.stats':
    '{chars, plural, one {# character} other {# characters}} · {blocks, plural, one {# block} other {# blocks}} · {links, plural, one {# link} other {# links}} · {images, plural, one {# image} other {# images}} · {tables, plural, one {# table} other {# tables}}',
  'viewer.text': 'Text',
  'viewer.markdown': 'Markdown',
  'viewer.tables': 'Tables',
  'viewer.table': 'Table {i}: {rows} × {cols}',
  'viewer.no_text': 'This page has no text.',
  'viewer.text_label': 'Text of page {n}',
  'viewer.markdown_label': 'Markdown of page {n}',
  'viewer.table_label': 'Table {i} of page {n}',
  'viewer.ocr_badge': 'OCR',
  'viewer.ocr': 'Text read by OCR ({languages}, confidence {confidence}%)',
  'viewer.ocr_no_words': 'Read by OCR ({languages}): no words found',
  'viewer.notice.ocr_unavailable': 'This page needs OCR, which this server does not have: its text is empty.',
  'viewer.notice.ocr_failed': 'OCR failed on this page.',
  'viewer.markdown_source': 'Show markdown source',
  'viewer.retry_load': 'Try again',

  'jobpage.back': 'All jobs',
  'jobpage.loading': 'Loading the job…',
  'jobpage.heading': 'Job {name}',

  'deliveries.heading': 'Webhook deliveries',
  'deliveries.target': 'The job’s status is sent to {url} each time it ends.',
  'deliveries.none': 'Nothing sent yet: the status is sent when the job ends.',
  'deliveries.load_error': 'The deliveries could not be loaded: {message}',
  'deliveries.event.job.completed': 'Job completed',
  'deliveries.event.job.failed': 'Job failed',
  'deliveries.event.job.cancelled': 'Job cancelled',
  'deliveries.state.pending': 'Pending',
  'deliveries.state.delivered': 'Delivered',
  'deliveries.state.failed': 'Failed',
  'deliveries.waiting': 'Waiting for the first try…',
  'deliveries.retrying': 'Tried {n, plural, one {once} other {# times}}; next try at {time}.',
  'deliveries.delivered': 'Delivered {n, plural, =1 {on the first try} other {on try #}}.',
  'deliveries.failed': 'Gave up after {n, plural, one {# try} other {# tries}}.',
  'deliveries.id': 'webhook-id {id}',
  'deliveries.tries': 'Tries of “{event}”',
  'deliveries.col.try': 'Try',
  'deliveries.col.at': 'Time',
  'deliveries.col.answer': 'Answer',
  'deliveries.col.next': 'Next try',
  'deliveries.http': 'HTTP {code}',
  'deliveries.no_answer': 'No answer',
  'deliveries.no_next': 'None',
  'app.title': 'docparse',
} as const;

export type MessageKey = keyof typeof en;
type Dictionary = Record<MessageKey, string>;

const ko: Dictionary = {
  'app.tagline': '문서를 텍스트, 레이아웃, 표, 마크다운으로 변환합니다.',
  'app.skip': '본문으로 건너뛰기',
  'nav.label': '주 메뉴',
  'nav.upload': '새 업로드',
  'nav.history': '기록',
  'lang.label': '언어',

  'upload.heading': '문서 업로드',
  'upload.drop': '여기에 파일을 끌어다 놓으세요',
  'upload.or': '또는',
  'upload.choose': '파일 선택',
  'upload.hint': 'PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, TXT, 이미지 · 파일당 최대 {size} · 최대 {pages}페이지',
  'upload.password': '비밀번호',
  'upload.password_hint': '암호로 보호된 PDF에만 필요합니다.',
  'upload.pages': '페이지',
  'upload.pages_hint': '예: 1-3,7. 비워 두면 모든 페이지를 처리합니다.',
  'upload.pages_invalid': '1-3,7처럼 입력하세요 (1부터 시작하는 번호, 범위는 하이픈, 구분은 쉼표).',
  'upload.options': '추가 추출',
  'upload.option.tables': '표 (느림)',
  'upload.option.markdown': '마크다운 (느림)',
  'upload.ocr': '문자 인식(OCR)',
  'upload.ocr.auto': '텍스트가 없는 페이지 (스캔, 사진)',
  'upload.ocr.always': '모든 페이지',
  'upload.ocr.never': '사용 안 함',
  'upload.ocr_hint': '스캔한 문서나 사진에는 추출할 텍스트가 없어, OCR(광학 문자 인식)로 그림 속 글자를 읽습니다. 페이지마다 몇 초가 걸립니다.',
  'upload.ocr_unavailable': '이 서버에는 OCR이 설치되어 있지 않습니다. 텍스트가 없는 페이지는 안내와 함께 빈 결과로 돌아옵니다.',
  'upload.ocr_languages': 'OCR 언어',
  'upload.ocr_languages_hint': '+로 이어 씁니다(예: kor+eng). 이 서버에 설치된 언어: {languages}. 비워 두면 기본값을 씁니다.',
  'upload.ocr_languages_format': '+로 이어 씁니다(예: kor+eng). 비워 두면 기본값을 씁니다.',
  'upload.ocr_languages_invalid': 'kor+eng처럼, 이 서버에 설치된 언어({languages})로 적어 주세요.',
  'upload.advanced': '고급',
  'upload.advanced_on': '고급 (설정 {n}개 사용 중)',
  'upload.reuse_off': '전에 처리한 파일이어도 다시 처리',
  'upload.reuse_hint': '선택하지 않으면, 같은 옵션으로 전에 업로드한 파일은 그 결과의 사본을 바로 받습니다.',
  'upload.callback': '콜백 URL (웹훅)',
  'upload.callback_hint': '작업이 끝나면 서버가 이 주소로 작업 상태를 보냅니다(서명된 POST). 서버에 웹훅이 설정되어 있어야 합니다.',
  'upload.callback_invalid': 'http:// 또는 https://로 시작하는 전체 주소를 입력하세요.',
  'upload.submit': '업로드',
  'upload.files': '업로드할 파일',
  'upload.state.checking': '확인 중…',
  'upload.state.ready': '업로드 준비됨',
  'upload.state.uploading': '업로드 중… {percent}%',
  'upload.state.done': '업로드됨',
  'upload.state.rejected': '업로드하지 않음',
  'upload.state.error': '업로드 실패',
  'upload.progress': '{name} 업로드 진행률',
  'upload.remove': '제거',
  'upload.again': '다시 업로드',
  'upload.reject.type':
    '지원하지 않는 파일 형식입니다. PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, 텍스트 파일 또는 이미지를 선택하세요.',
  'upload.reject.empty': '빈 파일입니다.',
  'upload.reject.size': '파일 크기가 {size}입니다. 이 서버는 {max}까지 받습니다.',

  'jobs.heading': '작업',
  'jobs.empty': '업로드한 문서와 진행 상황이 여기에 표시됩니다.',
  'jobs.gone': '이 작업은 더 이상 없습니다. 만료되었거나 삭제되었을 수 있습니다.',

  'status.queued': '대기 중',
  'status.processing': '처리 중',
  'status.completed': '완료',
  'status.failed': '실패',
  'status.cancelled': '취소됨',

  'job.progress': '{name} 처리 진행률',
  'job.pages': '{done}/{total} 페이지',
  'job.pages_unknown': '{done} 페이지',
  'job.chunks': '{total}개 구간 중 {running}개 동시 처리 중',
  'job.eta': '약 {time} 남음',
  'job.eta_soon': '거의 끝났습니다',
  'job.queue_position': '앞에 작업 {position}개 대기 중',
  'job.queue_next': '다음 차례',
  'job.waiting': '작업자를 기다리는 중',
  'job.starting': '문서를 여는 중…',
  'job.done': '{total}페이지를 {time} 만에 처리했습니다',
  'job.done_fast': '{total}페이지를 1초 안에 처리했습니다',
  'job.done_short': '{total}페이지를 처리했습니다',
  'job.partial': '중단되기 전에 {total}페이지 중 {done}페이지를 처리했습니다.',
  'job.failed_pages': '처리하지 못한 페이지: {pages}',
  'job.attempt': '{n}번째 시도',
  'job.created': '{date} 업로드',
  'job.expires': '{date}까지 보관',
  'job.cancel': '취소',
  'job.retry': '다시 시도',
  'job.delete': '삭제',
  'job.delete_label': '{name} 삭제',
  'job.confirm_delete': '{name}을(를) 삭제할까요?',
  'job.confirm_delete_body': '서버에서 파일과 결과가 삭제됩니다. 되돌릴 수 없습니다.',
  'job.confirm_delete_running':
    '아직 {status, select, queued {대기열에서 기다리는} other {처리 중인}} 작업입니다. 삭제하면 작업이 중단되고, 파일과 지금까지 처리된 페이지가 서버에서 삭제됩니다. 되돌릴 수 없습니다.',
  'job.confirm_delete_yes': '삭제',
  'job.confirm_cancel': '그대로 두기',
  'job.open': '열기',
  'job.view_result': '결과 보기',
  'job.password': '문서 비밀번호',
  'job.server_message': '서버 메시지: {message}',
  'job.new_pages': '새 페이지 범위',
  'job.upload_pages': '이 페이지로 다시 업로드',
  'job.upload_pages_home': '문서 안의 페이지 범위로 파일을 다시 업로드하세요',
  'job.reupload': '파일 다시 업로드',
  'job.reused': '{link}의 결과를 재사용했습니다 ({time}에 처리).',
  'job.reused_untimed': '{link}의 결과를 재사용했습니다.',
  'job.reused_link': '같은 파일의 이전 업로드',

  'error.encrypted': '암호로 보호된 PDF입니다 — 비밀번호를 입력하고 다시 시도하세요.',
  'error.encrypted.action': '비밀번호는 이번 재시도에만 전송됩니다.',
  'error.wrong_password': '비밀번호가 틀렸습니다 — 올바른 비밀번호를 입력하고 다시 시도하세요.',
  'error.wrong_password.action': '비밀번호는 대소문자를 구분합니다.',
  'error.corrupt': '파일이 손상되어 읽을 수 없습니다.',
  'error.corrupt.action': '다른 프로그램에서 열어 다시 저장하거나 PDF 등으로 내보낸 뒤 새 파일을 업로드하세요.',
  'error.page_timeout': '한 페이지의 처리 시간이 너무 길어 중단되었습니다.',
  'error.page_timeout.action': '다시 시도하거나, 느린 페이지를 건너뛰는 페이지 범위로 다시 업로드하세요.',
  'error.timeout': '문서 처리 시간이 서버 허용 시간을 넘었습니다.',
  'error.timeout.action': '더 작은 페이지 범위로 다시 업로드하거나, 관리자에게 시간 제한을 늘려 달라고 요청하세요.',
  'error.worker_lost': '이 문서를 처리하던 작업자가 예기치 않게 중단되었습니다.',
  'error.worker_lost.action': '다시 시도하세요 — 보통 두 번째에는 성공합니다.',
  'error.cancelled': '작업이 취소되었습니다.',
  'error.cancelled.action': '다시 시도하면 문서를 다시 처리합니다.',
  'error.too_many_pages': '문서의 페이지 수가 서버 허용치를 넘습니다.',
  'error.too_many_pages.action': '이 서버는 페이지 범위와 관계없이 최대 {max}페이지까지의 문서만 엽니다. 문서를 나누거나 관리자에게 한도를 늘려 달라고 요청하세요.',
  'error.memory_limit': '문서를 처리하는 데 서버가 허용하는 것보다 많은 메모리가 필요했습니다.',
  'error.memory_limit.action': '다시 시도해도 같은 결과가 나옵니다. 문서를 다시 내보내거나(예: 그림 크기를 줄여) 관리자에게 문의하세요.',
  'error.invalid_request': '요청을 처리할 수 없었습니다.',
  'error.invalid_request.action': '설정을 고쳐 파일을 다시 업로드하세요.',
  'error.invalid_pages': '페이지 범위가 이 문서와 맞지 않습니다.',
  'error.invalid_pages.action': '문서 안의 페이지를 골라 다시 업로드하세요.',
  'error.unsupported_type': '지원하지 않는 파일 형식입니다.',
  'error.unsupported_type.action': 'PDF 등 지원하는 형식으로 변환한 뒤 그 파일을 업로드하세요.',
  'error.internal': 'docparse 내부에서 문제가 발생했습니다.',
  'error.internal.action': '다시 시도하세요. 계속 실패하면 관리자에게 알려 주세요.',
  'error.unknown': '처리에 실패했습니다.',
  'error.unknown.action': '다시 시도하거나 파일을 다시 업로드하세요.',

  'problem.network': '서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도하세요.',
  'problem.aborted': '요청이 취소되었습니다.',
  'problem.unknown': '문제가 발생했습니다.',
  'problem.unauthorized': '이 서버는 유효한 API 키가 필요합니다.',
  'problem.not_found': '찾을 수 없습니다.',
  'problem.file_too_large': '파일이 서버가 받을 수 있는 크기보다 큽니다.',
  'problem.unsupported_type': '지원하지 않는 파일 형식입니다.',
  'problem.empty_file': '업로드한 파일이 비어 있습니다.',
  'problem.invalid_request': '요청이 올바르지 않습니다.',
  'problem.too_many_requests': '요청이 너무 많습니다. 잠시 후 다시 시도하세요.',
  'problem.server': '서버에 문제가 있습니다 (HTTP {status}). 잠시 후 다시 시도하세요.',
  'problem.http': '요청에 실패했습니다 (HTTP {status}).',
  'problem.retry_after': '{seconds}초 후에 다시 시도하세요.',

  'time.under_second': '1초 미만',

  'auth.title': 'API 키 필요',
  'auth.body': '이 서버는 API 키를 요구합니다. 키는 이 브라우저에만 저장됩니다.',
  'auth.rejected': '키가 받아들여지지 않았습니다. 확인하고 다시 입력하세요.',
  'auth.key': 'API 키',
  'auth.save': '키 저장',
  'auth.dismiss': '나중에',
  'auth.forget': 'API 키 삭제',

  'history.heading': '기록',
  'history.filter': '상태',
  'history.all': '전체',
  'history.refresh': '새로 고침',
  'history.more': '더 보기',
  'history.empty': '아직 작업이 없습니다.',
  'history.empty_filtered': '이 상태의 작업이 없습니다.',
  'history.loading': '불러오는 중…',
  'history.deleted': '{name}을(를) 삭제했습니다.',

  'viewer.heading': '결과',
  'viewer.partial': '작업이 끝나지 않았습니다: 지금까지 처리된 페이지를 표시합니다.',
  'viewer.not_ready': '아직 결과가 없습니다.',
  'viewer.document': '문서',
  'viewer.meta.title': '제목',
  'viewer.meta.author': '작성자',
  'viewer.meta.subject': '주제',
  'viewer.meta.keywords': '키워드',
  'viewer.meta.creator': '작성 프로그램',
  'viewer.meta.producer': 'PDF 생성기',
  'viewer.meta.creation_date': '만든 날짜',
  'viewer.meta.modification_date': '수정한 날짜',
  'viewer.meta.file_type': '형식',
  'viewer.meta.size': '크기',
  'viewer.meta.page_count': '페이지 수',
  'viewer.meta.encrypted': '암호화',
  'viewer.meta.sha256': 'SHA-256',
  'viewer.yes': '예',
  'viewer.no': '아니요',
  'viewer.outline': '목차',
  'viewer.details_outline': '문서 정보와 목차',
  'viewer.outline_empty': '이 문서에는 목차가 없습니다.',
  'viewer.downloads': '다운로드',
  'viewer.download.json': 'JSON',
  'viewer.download.markdown': '마크다운',
  'viewer.download.text': '텍스트',
  'viewer.download_label': '결과를 {format} 형식으로 다운로드',
  'viewer.markdown_not_asked': '업로드할 때 마크다운을 요청하지 않아, 마크다운 다운로드에는 일반 텍스트가 들어 있습니다.',
  'viewer.pages': '페이지',
  'viewer.goto': '페이지로 이동',
  'viewer.go': '이동',
  'viewer.boxes': '상자 표시',
  'viewer.kind.blocks': '블록',
  'viewer.kind.links': '링크',
  'viewer.kind.images': '이미지',
  'viewer.kind.tables': '표',
  'viewer.page': '{n}페이지',
  'viewer.page_loading': '{n}페이지를 불러오는 중…',
  'viewer.page_pending': '이 페이지는 아직 처리되지 않았습니다.',
  'viewer.page_missing': '이 페이지는 처리되지 않았습니다.',
  'viewer.page_failed': '이 페이지는 처리하지 못했습니다.',
  'viewer.page_error': '페이지를 불러오지 못했습니다: {message}',
  'viewer.page_image': '{n}페이지 렌더링',
  'viewer.overlay': '{n}페이지에서 인식된 영역',
  'viewer.stats': '글자 {chars}개 · 블록 {blocks}개 · 링크 {links}개 · 이미지 {images}개 · 표 {tables}개',
  'viewer.text': '텍스트',
  'viewer.markdown': '마크다운',
  'viewer.tables': '표',
  'viewer.table': '표 {i}: {rows} × {cols}',
  'viewer.no_text': '이 페이지에는 텍스트가 없습니다.',
  'viewer.text_label': '{n}페이지 텍스트',
  'viewer.markdown_label': '{n}페이지 마크다운',
  'viewer.table_label': '{n}페이지 표 {i}',
  'viewer.ocr_badge': 'OCR',
  'viewer.ocr': 'OCR로 읽은 텍스트 ({languages}, 신뢰도 {confidence}%)',
  'viewer.ocr_no_words': 'OCR로 읽음 ({languages}): 찾은 단어 없음',
  'viewer.notice.ocr_unavailable': '이 페이지는 OCR이 필요하지만 이 서버에는 OCR이 없어 텍스트가 비어 있습니다.',
  'viewer.notice.ocr_failed': '이 페이지의 OCR에 실패했습니다.',
  'viewer.markdown_source': '마크다운 원문 보기',
  'viewer.retry_load': '다시 불러오기',

  'jobpage.back': '모든 작업',
  'jobpage.loading': '작업을 불러오는 중…',
  'jobpage.heading': '작업 {name}',

  'deliveries.heading': '웹훅 전송',
  'deliveries.target': '작업이 끝날 때마다 작업 상태를 {url}(으)로 보냅니다.',
  'deliveries.none': '아직 보낸 것이 없습니다. 작업이 끝나면 상태를 보냅니다.',
  'deliveries.load_error': '전송 내역을 불러오지 못했습니다: {message}',
  'deliveries.event.job.completed': '작업 완료',
  'deliveries.event.job.failed': '작업 실패',
  'deliveries.event.job.cancelled': '작업 취소',
  'deliveries.state.pending': '대기 중',
  'deliveries.state.delivered': '전송됨',
  'deliveries.state.failed': '실패',
  'deliveries.waiting': '첫 시도를 기다리는 중…',
  'deliveries.retrying': '{n}번 시도했습니다. 다음 시도: {time}.',
  'deliveries.delivered': '{n, plural, =1 {첫 시도에} other {#번째 시도에}} 전송했습니다.',
  'deliveries.failed': '{n}번 시도한 뒤 포기했습니다.',
  'deliveries.id': 'webhook-id {id}',
  'deliveries.tries': '“{event}” 시도 내역',
  'deliveries.col.try': '시도',
  'deliveries.col.at': '시각',
  'deliveries.col.answer': '응답',
  'deliveries.col.next': '다음 시도',
  'deliveries.http': 'HTTP {code}',
  'deliveries.no_answer': '응답 없음',
  'deliveries.no_next': '없음',
  'app.title': 'docparse',
};

export type Locale = 'en' | 'ko';

export const LOCALES: readonly { code: Locale; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'ko', name: '한국어' },
];

const DICTIONARIES: Record<Locale, Dictionary> = { en, ko };
const STORAGE_KEY = 'docparse.locale';

type Params = Record<string, string | number>;

/** The first supported language among the browser's preferred ones; English otherwise. */
export function detectLocale(languages: readonly string[] = browserLanguages()): Locale {
  for (const language of languages) {
    const base = language.toLowerCase().split('-')[0];
    if (base === 'ko' || base === 'en') return base;
  }
  return 'en';
}

function browserLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

function storedLocale(): Locale | null {
  try {
    const value = globalThis.localStorage?.getItem(STORAGE_KEY);
    return value === 'en' || value === 'ko' ? value : null;
  } catch {
    return null;
  }
}

export class I18n {
  locale = $state<Locale>('en');

  constructor(locale: Locale = storedLocale() ?? detectLocale()) {
    this.locale = locale;
    this.#applyToDocument();
  }

  /**
   * The text for `key` in the current locale, with `{name}` placeholders filled from `params`. Templates may hold
   * ICU-style choices: `{n, plural, one {# page} other {# pages}}` (by Intl.PluralRules, `#` is the number) and
   * `{status, select, queued {...} other {...}}`.
   */
  t = (key: MessageKey, params?: Params): string => {
    const template = DICTIONARIES[this.locale][key] ?? en[key] ?? key;
    return params ? this.#fill(template, params) : template;
  };

  /** The plural category of `count` in the current locale ("one", "other", ...). */
  plural(count: number): Intl.LDMLPluralRule {
    return new Intl.PluralRules(this.locale).select(count);
  }

  has(key: string): key is MessageKey {
    return key in en;
  }

  set(locale: Locale): void {
    this.locale = locale;
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, locale);
    } catch {
      // private mode: the choice lasts for this page only
    }
    this.#applyToDocument();
  }

  number(value: number, options?: Intl.NumberFormatOptions): string {
    return new Intl.NumberFormat(this.locale, options).format(value);
  }

  /**
   * Sizes in binary units, labelled as such: 1536 → "1.5 KiB", 2**30 → "1 GiB" (the server counts its limits in
   * MiB). `fractionDigits` forces that many decimals (to tell apart two sizes that would round alike).
   */
  bytes(value: number, fractionDigits?: number): string {
    const units = ['KiB', 'MiB', 'GiB', 'TiB'] as const;
    if (value < 1024) return this.number(value, { style: 'unit', unit: 'byte', unitDisplay: 'long' });
    let amount = value;
    let unit = -1;
    while (amount >= 1024 && unit < units.length - 1) {
      amount /= 1024;
      unit += 1;
    }
    const digits = fractionDigits ?? (amount < 10 ? 1 : 0);
    const number = this.number(amount, { maximumFractionDigits: digits, minimumFractionDigits: fractionDigits ?? 0 });
    return `${number} ${units[unit]}`;
  }

  /**
   * A size over a limit and the limit, the size with just enough decimals to read as larger: 1.08 GB against
   * 1 GiB is "1.01 GiB" and "1 GiB", never "1 GiB" twice.
   */
  bytesApart(size: number, limit: number): [string, string] {
    const shownLimit = this.bytes(limit);
    let shown = this.bytes(size);
    if (size <= limit || shown !== shownLimit) return [shown, shownLimit];
    const scale = 1024 ** Math.min(4, Math.floor(Math.log(size) / Math.log(1024)));
    const value = size / scale;
    const unit = shown.split(' ').at(-1);
    for (let digits = 1; digits <= 3; digits++) {
      const factor = 10 ** digits;
      // rounded up, so that a size over the limit never shows as the limit itself
      const rounded = Math.ceil(value * factor) / factor;
      shown = `${this.number(rounded, { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${unit}`;
      if (Math.round(value * factor) / factor > limit / scale || digits === 3) break;
    }
    return [shown, shownLimit];
  }

  /** 83 → "1 min 23 sec" / "1분 23초"; under a second says so ("under a second" / "1초 미만"). */
  duration(seconds: number): string {
    if (seconds < 1) return this.t('time.under_second');
    const total = Math.max(0, Math.round(seconds));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const secs = total % 60;
    const part = (value: number, unit: 'hour' | 'minute' | 'second') =>
      this.number(value, { style: 'unit', unit, unitDisplay: 'short' });
    if (hours > 0) return minutes > 0 ? `${part(hours, 'hour')} ${part(minutes, 'minute')}` : part(hours, 'hour');
    if (minutes > 0) return secs > 0 && minutes < 10 ? `${part(minutes, 'minute')} ${part(secs, 'second')}` : part(minutes, 'minute');
    return part(secs, 'second');
  }

  /** An ISO 8601 timestamp in the reader's time zone. */
  date(iso: string | null | undefined): string {
    if (!iso) return '';
    const time = Date.parse(iso);
    if (Number.isNaN(time)) return iso;
    return new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium', timeStyle: 'short' }).format(time);
  }

  /** A moment to the second (tries of a webhook are seconds apart): Unix milliseconds or an ISO 8601 timestamp. */
  time(value: number | string | null | undefined): string {
    if (value === null || value === undefined || value === '') return '';
    const time = typeof value === 'number' ? value : Date.parse(value);
    if (Number.isNaN(time)) return String(value);
    return new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(time);
  }

  #formatParam(value: string | number): string {
    return typeof value === 'number' ? this.number(value) : value;
  }

  /** Fills `{name}` placeholders and `{name, plural|select, ...}` choices; unknown placeholders stay as written. */
  #fill(template: string, params: Params): string {
    let out = '';
    let i = 0;
    while (i < template.length) {
      const open = template.indexOf('{', i);
      const close = open < 0 ? -1 : matchingBrace(template, open);
      if (close < 0) return out + template.slice(i);
      out += template.slice(i, open);
      const inner = template.slice(open + 1, close);
      const choice = /^\s*(\w+)\s*,\s*(plural|select)\s*,([\s\S]*)$/.exec(inner);
      if (choice && choice[1] in params) {
        const [, name, kind, body] = choice;
        const value = params[name];
        const options = choiceOptions(body);
        let text: string;
        if (kind === 'plural' && typeof value === 'number') {
          const option = options.get(`=${value}`) ?? options.get(this.plural(value)) ?? options.get('other') ?? '';
          text = option.replace(/#/g, this.number(value));
        } else if (kind === 'plural') {
          text = (options.get('other') ?? '').replace(/#/g, String(value));
        } else {
          text = options.get(String(value)) ?? options.get('other') ?? '';
        }
        out += this.#fill(text, params);
      } else if (/^\w+$/.test(inner) && inner in params) {
        out += this.#formatParam(params[inner]);
      } else {
        out += template.slice(open, close + 1);
      }
      i = close + 1;
    }
    return out;
  }

  #applyToDocument(): void {
    if (typeof document !== 'undefined') document.documentElement.lang = this.locale;
  }
}

/** The index of the `}` closing the `{` at `open`, or -1. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth += 1;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** ` one {# page} other {# pages}` → {one: "# page", other: "# pages"}. */
function choiceOptions(body: string): Map<string, string> {
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup table, never rendered
  const options = new Map<string, string>();
  const option = /\s*(=?\w+)\s*\{/y;
  let i = 0;
  for (;;) {
    option.lastIndex = i;
    const found = option.exec(body);
    if (!found) return options;
    const open = option.lastIndex - 1;
    const close = matchingBrace(body, open);
    if (close < 0) return options;
    options.set(found[1], body.slice(open + 1, close));
    i = close + 1;
  }
}

export const i18n = new I18n();
