import { render, screen, waitFor, fireEvent } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../lib/api/problem';
import { ConfigStore } from '../lib/config.svelte';
import { i18n } from '../lib/i18n.svelte';
import { UploadsStore, type UploadsDeps } from '../lib/uploads.svelte';
import UploadZone from './UploadZone.svelte';
import { makeAccepted, makeConfig } from '../test/fixtures';

function setup(maxBytes = 1_000_000) {
  const config = new ConfigStore();
  config.value = makeConfig({ max_upload_bytes: maxBytes, max_pages: 500 });
  const upload = vi.fn<UploadsDeps['upload']>(async (request) => makeAccepted(`job-${request.file.name}`, request.file.name));
  const onAccepted = vi.fn<UploadsDeps['onAccepted']>();
  const store = new UploadsStore({
    upload,
    onAccepted,
    config: () => config.value,
    formatBytes: (bytes) => i18n.bytes(bytes),
  });
  render(UploadZone, { store, config });
  // applyAccept off: the point is to see what the app does with a file the picker would have let through
  const user = userEvent.setup({ applyAccept: false });
  return { store, upload, onAccepted, user };
}

const pdf = (name = 'report.pdf', size = 2048) => new File(['x'.repeat(size)], name, { type: 'application/pdf' });

describe('UploadZone', () => {
  beforeEach(() => i18n.set('en'));

  it('uploads the chosen files with the password, pages and options', async () => {
    const { upload, onAccepted, user } = setup();
    await user.upload(screen.getByLabelText('Choose files'), [pdf('a.pdf'), pdf('b.pdf')]);

    const list = screen.getByRole('list', { name: 'Files to upload' });
    expect(list).toHaveTextContent('a.pdf');
    expect(list).toHaveTextContent('b.pdf');

    await user.type(screen.getByLabelText('Password'), 'hunter2');
    await user.type(screen.getByLabelText('Pages'), '1-3,7');
    await user.click(screen.getByRole('checkbox', { name: /Tables/ }));
    await user.click(screen.getByRole('button', { name: 'Upload' }));

    await waitFor(() => expect(onAccepted).toHaveBeenCalledTimes(2));
    expect(upload).toHaveBeenCalledTimes(2);
    const request = upload.mock.calls[0][0];
    expect(request.file.name).toBe('a.pdf');
    expect(request.password).toBe('hunter2');
    expect(request.pages).toBe('1-3,7');
    expect(request.options).toEqual(['tables']);
    expect(onAccepted.mock.calls.map(([job]) => job.job_id)).toEqual(['job-a.pdf', 'job-b.pdf']);
    // accepted files leave the list: their job cards take over
    expect(screen.queryByRole('list', { name: 'Files to upload' })).not.toBeInTheDocument();
  });

  it('rejects an unsupported type and an oversized file before uploading', async () => {
    const { upload, user } = setup(10_000);
    const docx = new File(['PK'], 'notes.docx', {
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    });
    await user.upload(screen.getByLabelText('Choose files'), [docx, pdf('huge.pdf', 20_000)]);

    const alerts = screen.getAllByRole('alert');
    expect(alerts[0]).toHaveTextContent('This file type is not supported.');
    expect(alerts[1]).toHaveTextContent('The file is 20 kB; this server accepts files up to 10 kB.');

    await user.click(screen.getByRole('button', { name: 'Upload' }));
    expect(upload).not.toHaveBeenCalled();
  });

  it('leaves the type to the server when neither the name nor the browser says one', async () => {
    const { upload, user } = setup();
    const renamed = new File(['%PDF-1.7'], 'report.bin', { type: 'application/octet-stream' });
    await user.upload(screen.getByLabelText('Choose files'), renamed);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(upload).toHaveBeenCalledOnce());
  });

  it('accepts dropped files and rejects an empty one', async () => {
    const { store } = setup();
    const zone = screen.getByRole('group', { name: 'Drop files here' });
    await fireEvent.drop(zone, { dataTransfer: { files: [new File([], 'empty.pdf', { type: 'application/pdf' })] } });
    expect(screen.getByRole('alert')).toHaveTextContent('The file is empty.');
    expect(store.items[0].state).toBe('rejected');
  });

  it("shows the server's problem detail as it is, and the byte progress while sending", async () => {
    const { upload, user } = setup();
    let fail: (error: unknown) => void = () => {};
    upload.mockImplementation(
      (request) =>
        new Promise((_, reject) => {
          request.onProgress?.(1024, 2048);
          fail = reject;
        }),
    );
    await user.upload(screen.getByLabelText('Choose files'), pdf('scan.pdf'));
    await user.click(screen.getByRole('button', { name: 'Upload' }));

    const bar = await screen.findByRole('progressbar', { name: 'Upload progress of scan.pdf' });
    expect(bar).toHaveAttribute('value', '1024');
    expect(bar).toHaveAttribute('max', '2048');
    expect(screen.getByText('Uploading… 50%')).toBeInTheDocument();

    fail(new ApiError(413, { code: 'file_too_large', status: 413, detail: 'scan.pdf is 120 MB; the limit is 100 MB.' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('scan.pdf is 120 MB; the limit is 100 MB.');
    expect(screen.getByRole('button', { name: 'Upload again' })).toBeInTheDocument();
  });

  it('sends the OCR choice and languages, and explains OCR in Korean', async () => {
    const { upload, user } = setup();
    const auto = screen.getByRole('radio', { name: /Pages without text/ });
    expect(auto).toBeChecked(); // auto is the default
    expect(screen.getByLabelText('OCR languages')).toHaveAttribute('placeholder', 'kor+eng');
    expect(screen.getByText(/Installed here: eng, kor/)).toBeInTheDocument();

    await user.upload(screen.getByLabelText('Choose files'), [pdf('scan.pdf')]);
    await user.click(screen.getByRole('radio', { name: 'Every page' }));
    await user.type(screen.getByLabelText('OCR languages'), 'eng');
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(upload).toHaveBeenCalledTimes(1));
    expect(upload.mock.calls[0][0]).toMatchObject({ ocr: 'always', ocrLanguages: 'eng' });

    i18n.set('ko');
    await waitFor(() => expect(screen.getByText(/OCR\(광학 문자 인식\)로 그림 속 글자를 읽습니다/)).toBeInTheDocument());
    expect(screen.getByRole('group', { name: '문자 인식(OCR)' })).toBeInTheDocument();
  });

  it('refuses OCR languages the server does not have', async () => {
    const { upload, user } = setup();
    await user.upload(screen.getByLabelText('Choose files'), [pdf('scan.pdf')]);
    await user.type(screen.getByLabelText('OCR languages'), 'kor+fra');
    expect(screen.getByLabelText('OCR languages')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText(/from those installed here: eng, kor/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Upload' })).toBeDisabled();
    expect(upload).not.toHaveBeenCalled();
  });

  it('refuses a malformed page range', async () => {
    const { user } = setup();
    await user.type(screen.getByLabelText('Pages'), '3-1,x');
    expect(screen.getByLabelText('Pages')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText(/Write pages like 1-3,7/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Upload' })).toBeDisabled();
  });
});
