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
    formatSizes: (size, limit) => i18n.bytesApart(size, limit),
  });
  render(UploadZone, { store, config });
  const user = userEvent.setup();
  return { store, upload, onAccepted, user };
}

const pdf = (name = 'report.pdf', size = 2048) =>
  new File(['%PDF-1.7\n' + 'x'.repeat(Math.max(0, size - 9))], name, { type: 'application/pdf' });

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
    // each job keeps what its file was sent with (to send it again with other pages)
    expect(onAccepted.mock.calls[0][1]).toMatchObject({ pages: '1-3,7', options: ['tables'] });
    // accepted files leave the list: their job cards take over
    expect(screen.queryByRole('list', { name: 'Files to upload' })).not.toBeInTheDocument();
    // the password belonged to those files: it does not go with the next ones
    expect(screen.getByLabelText('Password')).toHaveValue('');
    await user.upload(screen.getByLabelText('Choose files'), pdf('c.pdf'));
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(upload).toHaveBeenCalledTimes(3));
    expect(upload.mock.calls[2][0].password).toBeUndefined();
  });

  it('rejects an unsupported type and an oversized file before uploading', async () => {
    const { upload, user } = setup(10_000);
    const docx = new File(['PK\x03\x04'], 'notes.docx', {
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    });
    await user.upload(screen.getByLabelText('Choose files'), [docx, pdf('huge.pdf', 20_000)]);

    await waitFor(() => expect(screen.getAllByRole('alert')).toHaveLength(2));
    const alerts = screen.getAllByRole('alert');
    expect(alerts[0]).toHaveTextContent('This file type is not supported.');
    expect(alerts[1]).toHaveTextContent('The file is 20 KiB; this server accepts files up to 9.8 KiB.');

    await user.click(screen.getByRole('button', { name: 'Upload' }));
    expect(upload).not.toHaveBeenCalled();
  });

  it('decides the type by the bytes, as the server does: a PDF named .bin goes, a WebP does not', async () => {
    const { upload, user } = setup();
    const renamed = new File(['%PDF-1.7'], 'report.bin', { type: 'application/octet-stream' });
    const webp = new File([new Uint8Array([0x52, 0x49, 0x46, 0x46, 0xa8, 1, 0, 0, 0x57, 0x45, 0x42, 0x50])], 'photo.webp', {
      type: 'image/webp',
    });
    await user.upload(screen.getByLabelText('Choose files'), [renamed, webp]);
    expect(await screen.findByRole('alert')).toHaveTextContent('This file type is not supported.');
    expect(screen.getAllByRole('alert')).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(upload).toHaveBeenCalledOnce());
    expect(upload.mock.calls[0][0].file.name).toBe('report.bin');
  });

  it("checks a file chosen before the server's limits were known again before sending it", async () => {
    const config = new ConfigStore();
    const upload = vi.fn<UploadsDeps['upload']>(async (request) => makeAccepted('j', request.file.name));
    const store = new UploadsStore({
      upload,
      onAccepted: vi.fn(),
      config: () => config.value,
      formatSizes: (size, limit) => i18n.bytesApart(size, limit),
    });
    await store.add([new File(['\x7fELF\x02\x01\x01\x00'], 'program.pdf')]);
    expect(store.items[0].state).toBe('ready'); // nothing known to check against yet
    config.value = makeConfig();
    await store.start();
    expect(store.items[0].state).toBe('rejected');
    expect(upload).not.toHaveBeenCalled();
  });

  it('uploads a file still being checked once its check is done', async () => {
    const { store, upload } = setup();
    const adding = store.add([pdf('quick.pdf')]);
    expect(store.items[0].state).toBe('checking');
    await store.start();
    await adding;
    expect(upload).toHaveBeenCalledOnce();
  });

  it('accepts dropped files and rejects an empty one', async () => {
    const { store } = setup();
    const zone = screen.getByRole('group', { name: 'Drop files here' });
    await fireEvent.drop(zone, { dataTransfer: { files: [new File([], 'empty.pdf', { type: 'application/pdf' })] } });
    expect(await screen.findByRole('alert')).toHaveTextContent('The file is empty.');
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

    fail(new ApiError(413, { code: 'file_too_large', status: 413, detail: 'scan.pdf is 120 MiB; the limit is 100 MiB.' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('scan.pdf is 120 MiB; the limit is 100 MiB.');
    // the same file would be refused the same way: no "Upload again"
    expect(screen.queryByRole('button', { name: 'Upload again' })).not.toBeInTheDocument();
  });

  it('offers "Upload again" after a failure that may pass, sending the same settings', async () => {
    const { upload, user } = setup();
    upload.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    await user.upload(screen.getByLabelText('Choose files'), pdf('scan.pdf'));
    await user.type(screen.getByLabelText('Password'), 'pw');
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await user.click(await screen.findByRole('button', { name: 'Upload again' }));
    await waitFor(() => expect(upload).toHaveBeenCalledTimes(2));
    expect(upload.mock.calls[1][0].password).toBe('pw');
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

  it('parses again and sends a callback URL from the Advanced settings, which say when they are on', async () => {
    const { upload, user } = setup();
    const summary = screen.getByText('Advanced');
    const again = screen.getByRole('checkbox', { name: 'Parse again even if this file was parsed before' });
    expect(again).not.toBeChecked();
    await user.click(summary);
    await user.click(again);
    const callback = screen.getByRole('textbox', { name: 'Callback URL (webhook)' });
    await user.type(callback, 'hooks.example.com');
    // not a full address: said, and Upload waits for it
    expect(callback).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Write a full address starting with http:// or https://.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Upload' })).toBeDisabled();
    await user.clear(callback);
    await user.type(callback, 'https://hooks.example.com/docparse');
    expect(callback).toHaveAttribute('aria-invalid', 'false');
    expect(screen.getByText('Advanced (2 settings on)')).toBeInTheDocument();

    await user.upload(screen.getByLabelText('Choose files'), pdf('a.pdf'));
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(upload).toHaveBeenCalledOnce());
    expect(upload.mock.calls[0][0]).toMatchObject({ reuse: false, callbackUrl: 'https://hooks.example.com/docparse' });
  });

  it('reuses earlier results and sends no callback by default', async () => {
    const { upload, user } = setup();
    await user.upload(screen.getByLabelText('Choose files'), pdf('a.pdf'));
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(upload).toHaveBeenCalledOnce());
    expect(upload.mock.calls[0][0].reuse).toBeUndefined();
    expect(upload.mock.calls[0][0].callbackUrl).toBeUndefined();
  });
});
